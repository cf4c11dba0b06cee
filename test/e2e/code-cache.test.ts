/**
 * Node 20's start of the built CLI with a V8 code cache (src/cli/code-cache.ts, issue 25 B1):
 * the bin runs dist/script/cli.js through vm.Script, makes the cache at the end of a
 * successful command and uses it on the next start; a corrupt, rejected or unsafe cache is
 * not used, and a cache folder that cannot be written to never fails a run. What the start
 * did is read from NODE_DEBUG=status-validator-code-cache on stderr. On Node 22.1 and later
 * the bin uses Node's own compile cache instead (module.enableCompileCache), and this path
 * does not run there.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import module from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildDist } from '../../scripts/build.js';
import { startBed, type Bed } from '../support/bed.js';
import { shownVerdicts } from '../support/inspect.js';
import { sampleRows } from '../support/sample-data.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = path.join(ROOT, 'bin/status-validator.js');
/** Node 22.1+ has module.enableCompileCache, and the bin leaves the caching to it. */
const NODE_CACHES_ESM = (module as { enableCompileCache?: unknown }).enableCompileCache !== undefined;

let bed: Bed | undefined;
let scratch = '';
/** A preload that tells, at exit, which files of node_modules the process required. */
const LOADED = path.join(tmpdir(), `sv-code-cache-loaded-${process.pid}.cjs`);
beforeAll(async () => {
  await buildDist();
  scratch = mkdtempSync(path.join(tmpdir(), 'sv-code-cache-'));
  writeFileSync(LOADED, "process.on('exit', () => process.stderr.write(`loaded: ${Object.keys(require.cache).filter((f) => f.includes('node_modules')).join(' ')}\\n`));\n");
}, 60_000);
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  rmSync(LOADED, { force: true });
});

/** `status-validator run` with the code cache in `cacheDir`: exit code and what the start reported. */
async function run(cacheDir: string, nodeOptions: string[] = []): Promise<{ code: number | null; stderr: string; states: string[] }> {
  bed ??= await startBed({ rows: sampleRows(3) });
  const child = spawn(process.execPath, [...nodeOptions, '--require', LOADED, BIN, 'run', '--config', bed.configPath, '--json'], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...bed.env, STATUS_VALIDATOR_CODE_CACHE: cacheDir, NODE_DEBUG: 'status-validator-code-cache' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const [code] = (await once(child, 'close')) as [number | null];
  const states = [...stderr.matchAll(/^STATUS-VALIDATOR-CODE-CACHE \d+: (\w+( written)?)/gm)].map((m) => m[1] ?? '');
  return { code, stderr, states };
}

const cacheFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.cache'));

describe.runIf(!NODE_CACHES_ESM)('the code cache on Node 20', () => {
  it('is made by a first run (a file of the user\'s own), then used by the next start, which does not write it again', async () => {
    const dir = path.join(scratch, 'fresh');
    const first = await run(dir);
    expect(first.code, first.stderr).toBe(0);
    expect(first.states).toEqual(['absent', 'written']);
    const files = cacheFiles(dir);
    expect(files).toHaveLength(1);
    // Named by the script, the command, the node options (this test's --require) and V8.
    expect(files[0]).toMatch(new RegExp(`^cli-[0-9a-f]{8}-run-flags-[0-9a-f]{8}-v8-${process.versions.v8.replace(/[.]/g, '\\.')}-${process.arch}\\.cache$`));
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(dir, files[0] ?? '')).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(files);
    // The script is one file, but what a run loads stays what the ES build allows
    // (NOT_IN_A_RUN, scripts/build.ts): the packages only other commands use are not required.
    expect(first.stderr).toMatch(/^loaded: .*better-sqlite3/m);
    expect(first.stderr).not.toMatch(/^loaded: .*(prom-client|gpt-tokenizer|croner)/m);

    const second = await run(dir);
    expect(second.code, second.stderr).toBe(0);
    expect(second.states).toEqual(['accepted']);
    expect(shownVerdicts(bed!).every((v) => v === 'VALID' || v === 'INVALID')).toBe(true);
  }, 60_000);

  it('takes the code 2 s into a longer run (before V8 drops the bytecode of what only the start ran), under the flags the next start compiles with', async () => {
    bed = await startBed({ rows: sampleRows(3), llm: { latencyMs: 2500 } });
    const dir = path.join(scratch, 'long');
    const long = await run(dir);
    expect(long.code, long.stderr).toBe(0);
    expect(long.states).toEqual(['absent', 'taken', 'written']);
    expect((await run(dir)).states).toEqual(['accepted']);
  }, 60_000);

  it('takes a partial cache (made by a run that ended within 2 s) again in the first run that lasts 2 s, and keeps that whole one', async () => {
    const dir = path.join(scratch, 'partial');
    expect((await run(dir)).states).toEqual(['absent', 'written']);
    const partial = readFileSync(path.join(dir, cacheFiles(dir)[0] ?? ''));
    // A short run again: the partial cache serves it, and is not written again.
    expect((await run(dir)).states).toEqual(['accepted']);
    await bed?.close();
    bed = await startBed({ rows: sampleRows(3), llm: { latencyMs: 2500 } });
    const long = await run(dir);
    expect(long.code, long.stderr).toBe(0);
    expect(long.states).toEqual(['accepted', 'taken', 'written']);
    expect(long.stderr).toMatch(/ written .*, whole\)/);
    const whole = readFileSync(path.join(dir, cacheFiles(dir)[0] ?? ''));
    expect(whole.equals(partial)).toBe(false);
    // Whole: a later run, long or short, takes nothing again.
    expect((await run(dir)).states).toEqual(['accepted']);
  }, 60_000);

  it('ignores a damaged cache (a flipped byte: its CRC-32 no longer matches), runs, and writes it anew', async () => {
    const dir = path.join(scratch, 'damaged');
    expect((await run(dir)).states).toEqual(['absent', 'written']);
    const file = path.join(dir, cacheFiles(dir)[0] ?? '');
    const bytes = readFileSync(file);
    const middle = bytes.length >> 1;
    bytes[middle] = (bytes[middle] ?? 0) ^ 0xff;
    writeFileSync(file, bytes);
    const damaged = await run(dir);
    expect(damaged.code, damaged.stderr).toBe(0);
    expect(damaged.states).toEqual(['corrupt', 'written']);
    expect((await run(dir)).states).toEqual(['accepted']);
  }, 60_000);

  it('rewrites a whole file V8 rejects (data that is no code cache), and a cut one', async () => {
    const dir = path.join(scratch, 'rejected');
    expect((await run(dir)).states).toEqual(['absent', 'written']);
    const file = path.join(dir, cacheFiles(dir)[0] ?? '');
    // A whole cache by its header (the kind byte, 1), its checksum right: only V8 can tell.
    const payload = Buffer.concat([Buffer.of(1), Buffer.from('not a V8 code cache, but its checksum is right')]);
    const header = Buffer.alloc(4);
    header.writeUInt32LE(crc32(payload));
    writeFileSync(file, Buffer.concat([header, payload]));
    const rejected = await run(dir);
    expect(rejected.code, rejected.stderr).toBe(0);
    expect(rejected.states).toEqual(['rejected', 'written']);
    writeFileSync(file, readFileSync(file).subarray(0, 1000));
    expect((await run(dir)).states).toEqual(['corrupt', 'written']);
    expect((await run(dir)).states).toEqual(['accepted']);
  }, 90_000);

  it('runs to the end when the cache folder cannot be made (its parent is a file): only the cache is missing', async () => {
    const parent = path.join(scratch, 'a-file');
    writeFileSync(parent, 'not a folder');
    const ran = await run(path.join(parent, 'cache'));
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.states).toEqual(['absent', 'not written']);
    expect(ran.stderr).toMatch(/ENOTDIR/);
    expect(shownVerdicts(bed!).every((v) => v === 'VALID' || v === 'INVALID')).toBe(true);
  }, 60_000);

  it('neither reads nor writes a cache in a folder others can write to (V8 runs cached data as code)', async () => {
    const dir = path.join(scratch, 'shared');
    expect((await run(dir)).states).toEqual(['absent', 'written']);
    chmodSync(dir, 0o777);
    const ran = await run(dir);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.states).toEqual(['unsafe']);
  }, 60_000);

  it('leaves source maps to Node: with --enable-source-maps the bin runs the ES modules (mapped to src/), with no code cache', async () => {
    const dir = path.join(scratch, 'mapped');
    const ran = await run(dir, ['--enable-source-maps']);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.states).toEqual([]);
    expect(() => readdirSync(dir)).toThrow(/ENOENT/);
  }, 60_000);
});
