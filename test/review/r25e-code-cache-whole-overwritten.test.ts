/**
 * Review of issue 25 (code cache: partial and whole, 0f3e91d). "An accepted whole cache is
 * never rewritten", and a partial one is replaced only by a whole one: a whole cache is what
 * B1's start needs (a partial one, taken at the end of a run under 2 s, lacks what asking
 * compiles: B1 started ~0.1 s slower from it). Two commands at once (two cron entries, two
 * tabs): a long run and a short one that started before the long one wrote its cache. The
 * long one writes a whole cache at its exit; the short one, ending after it, writes its
 * partial cache over it (src/cli/code-cache.ts keepCache: at exit a command that found no
 * cache writes what it took, whatever the file now holds). Every later start then takes the
 * partial cache, until some run lasts 2 s again.
 *
 * The order is forced, not timed: the long run's answers wait until the short one has read
 * the cache folder (its NODE_DEBUG line), the short run's answers until the long one has
 * exited; the short run lasts about 1 s (on a machine so loaded that it passes 2 s, it takes a
 * whole cache and the test cannot see the defect: it passes, never fails wrongly).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import module from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDist } from '../../scripts/build.js';
import { startBed, type Bed } from '../support/bed.js';
import { defaultVerdict } from '../support/openai-emulator/index.js';
import { sampleRows } from '../support/sample-data.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = path.join(ROOT, 'bin/status-validator.js');
const NODE_CACHES_ESM = (module as { enableCompileCache?: unknown }).enableCompileCache !== undefined;
/** src/cli/code-cache.ts: the header is the CRC-32 (4 bytes), then this kind byte. */
const WHOLE = 1;

let scratch = '';
const beds: Bed[] = [];
beforeAll(async () => {
  await buildDist();
  scratch = mkdtempSync(path.join(tmpdir(), 'sv-r25e-cache-'));
}, 60_000);
afterAll(async () => {
  await Promise.all(beds.map((b) => b.close()));
  rmSync(scratch, { recursive: true, force: true });
});

/** A deferred: resolved from outside. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = () => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** The bin's `run` with the code cache in `dir`; `onLine` hears each stderr line as it comes. */
function start(bed: Bed, dir: string, onLine: (line: string) => void): { child: ChildProcess; done: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(process.execPath, [BIN, 'run', '--config', bed.configPath], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...bed.env, STATUS_VALIDATOR_CODE_CACHE: dir, NODE_DEBUG: 'status-validator-code-cache' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  let partial = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
    partial += s;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    lines.forEach(onLine);
  });
  const done = once(child, 'close').then(([code]) => ({ code: code as number | null, stderr }));
  return { child, done };
}

describe.runIf(!NODE_CACHES_ESM)('the code cache of two commands at once', () => {
  it('keeps the whole cache the long one wrote, not the partial one of a short one that ended after it', { timeout: 60_000 }, async () => {
    const dir = path.join(scratch, 'race');
    const longTaken = gate();
    const shortRead = gate();
    const longClosed = gate();
    const long = await startBed({ rows: sampleRows(2), llm: { respond: async (row) => (await shortRead.opened, defaultVerdict(row)) } });
    const short = await startBed({ rows: sampleRows(2), llm: { respond: async (row) => (await longClosed.opened, defaultVerdict(row)) } });
    beds.push(long, short);

    const longRun = start(long, dir, (line) => {
      if (/STATUS-VALIDATOR-CODE-CACHE \d+: taken /.test(line)) longTaken.open();
    });
    void longRun.done.then(() => longClosed.open());
    await Promise.race([longTaken.opened, longRun.done]);
    const shortRun = start(short, dir, (line) => {
      if (/STATUS-VALIDATOR-CODE-CACHE \d+: (absent|accepted|rejected|corrupt) /.test(line)) shortRead.open();
    });
    void shortRun.done.then(() => shortRead.open());

    const [l, s] = await Promise.all([longRun.done, shortRun.done]);
    expect(l.code, l.stderr).toBe(0);
    expect(s.code, s.stderr).toBe(0);
    expect(l.stderr).toMatch(/ written .*, whole\)/);
    // The premise: the short one found no cache (it read the folder before the long one wrote).
    expect(s.stderr).toMatch(/CODE-CACHE \d+: absent /);

    const files = readdirSync(dir).filter((f) => f.endsWith('.cache'));
    expect(files).toHaveLength(1);
    const kind = readFileSync(path.join(dir, files[0] ?? ''))[4];
    expect(kind, `the cache file is ${kind === WHOLE ? 'whole' : 'partial'}; the short run said: ${s.stderr.match(/written .*\)/)?.[0] ?? 'nothing written'}`).toBe(WHOLE);
  });
});
