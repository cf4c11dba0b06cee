/**
 * Review of f4d9726 (code cache: "a partial cache never replaces a whole one another command
 * wrote since this one started; the file this start found, rejected or damaged, it still
 * replaces"). V8 rejects cached data made under other V8 flags (its flag hash), and Node users
 * set V8 flags routinely: NODE_OPTIONS=--max-old-space-size=4096 for a large sheet (checked on
 * this Node 20: cached data made without that flag is rejected with it,
 * https://nodejs.org/docs/latest-v20.x/api/vm.html#scriptcacheddatarejected). The cache file's
 * name keys the script, the command, V8's version and the architecture, not the flags.
 *
 * Two cron entries on one host: one plain, one with NODE_OPTIONS=--max-old-space-size=4096.
 * The plain one, a long run, writes a whole cache. The other then starts, REJECTS that whole
 * cache (only because of its own flags), and at its exit writes its own cache, made under its
 * flags, over it (keepCache: the file it found and rejected it "still replaces", and a run
 * longer than 2 s writes whole whatever the file holds). Every later plain start finds a
 * cache it rejects: the whole cache every plain start could take is gone, for the sake of a
 * cache only starts with that one flag can use, and the two entries keep destroying each
 * other's cache (issue 25, bench B1: the start the cache exists for).
 *
 * Fails: the third start (plain) says `rejected`. A cache this start rejected for a reason of
 * its own (its flags), not for a fault of the file, must not replace one the others accept (or
 * the flags must key the file).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import module from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDist } from '../../scripts/build.js';
import { startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = path.join(ROOT, 'bin/status-validator.js');
const NODE_CACHES_ESM = (module as { enableCompileCache?: unknown }).enableCompileCache !== undefined;

let scratch = '';
const beds: Bed[] = [];
beforeAll(async () => {
  await buildDist();
  scratch = mkdtempSync(path.join(tmpdir(), 'sv-r25f-cache-'));
}, 60_000);
afterAll(async () => {
  await Promise.all(beds.map((b) => b.close()));
  rmSync(scratch, { recursive: true, force: true });
});

/** The bin's `run` with the code cache in `dir` (NODE_DEBUG tells what it found and wrote), and more environment. */
async function run(bed: Bed, dir: string, more: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [BIN, 'run', '--config', bed.configPath], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...bed.env, STATUS_VALIDATOR_CODE_CACHE: dir, NODE_DEBUG: 'status-validator-code-cache', ...more },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stderr };
}

const found = (stderr: string) => /CODE-CACHE \d+: (absent|accepted|rejected|corrupt|unsafe|off) /.exec(stderr)?.[1];

describe.runIf(!NODE_CACHES_ESM)('the code cache of two cron entries, one with NODE_OPTIONS=--max-old-space-size', () => {
  it('a plain start still takes the whole cache a plain run wrote', { timeout: 90_000 }, async () => {
    const dir = path.join(scratch, 'flags');
    // Long enough (answers 2.5 s away) to write a whole cache.
    const long = await startBed({ rows: sampleRows(2), llm: { latencyMs: 2500 } });
    const quick = await startBed({ rows: sampleRows(2) });
    beds.push(long, quick);

    const first = await run(long, dir);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/ written .*, whole\)/);

    const flagged = await run(quick, dir, { NODE_OPTIONS: '--max-old-space-size=4096' });
    expect(flagged.code, flagged.stderr).toBe(0);
    // V8 would reject the plain cache under the flag: the flagged start has a cache of its own (keyed by its options), made now, taken next time.
    expect(found(flagged.stderr), flagged.stderr).toBe('absent');
    expect(found((await run(quick, dir, { NODE_OPTIONS: '--max-old-space-size=4096' })).stderr)).toBe('accepted');

    const plain = await run(quick, dir);
    expect(plain.code, plain.stderr).toBe(0);
    expect(found(plain.stderr), `a plain start after the flagged one; the flagged one said: ${/written .*\)/.exec(flagged.stderr)?.[0] ?? 'nothing written'}`).toBe('accepted');
  });
});
