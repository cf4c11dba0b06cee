/**
 * r25d review (merge 92dd12c, src/cli/code-cache.ts): `run --help` makes the code cache of
 * `run`, and every later run starts from it.
 *
 * The defect: the cache file is named after the first argument that is not an option, and is
 * written by any command that exits 0. `status-validator run --help` (commander prints the
 * help and exits 0 before any of run's code compiles) therefore writes the `run` cache, holding
 * only what parsing the arguments compiled. The next real `run` finds that cache, V8 accepts it
 * ('accepted'), and an accepted cache is never taken again: every later run compiles lazily
 * what the cache should have held, for as long as this build is installed. The same happens
 * after any `run` that exits 0 having done next to nothing.
 *
 * Contract broken: code-cache.ts's own ("made by a successful command ... so that it holds the
 * functions the command compiled lazily"), README's code-cache paragraph (the cache of a
 * command is made by that command), and issue 25's B1 start time that the cache exists for.
 *
 * Expected: the `run` cache a real run starts from holds what a run compiles: about as much as
 * the cache made by a real run in a fresh folder (here: at least 90 % of its size), whether or
 * not `run --help` ran first (help/--version must not make a command's cache, or a run must
 * replace a cache that was not made by one).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import module from 'node:module';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
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

let bed: Bed;
let scratch = '';
beforeAll(async () => {
  await buildDist();
  scratch = mkdtempSync(path.join(tmpdir(), 'sv-r25d-help-'));
  bed = await startBed({ rows: sampleRows(3) });
}, 60_000);
afterAll(async () => {
  await bed.close();
  rmSync(scratch, { recursive: true, force: true });
});

async function bin(cacheDir: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...bed.env, STATUS_VALIDATOR_CODE_CACHE: cacheDir, NODE_DEBUG: 'status-validator-code-cache' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stderr };
}

const runCacheSize = (dir: string): number => {
  const file = readdirSync(dir).find((f) => /-run-v8-.*\.cache$/.test(f));
  return file === undefined ? 0 : statSync(path.join(dir, file)).size;
};

describe.runIf(!NODE_CACHES_ESM)('the code cache of `run` after `run --help`', () => {
  it('holds what a run compiles, as one made by a run alone does', async () => {
    const alone = path.join(scratch, 'alone');
    const first = await bin(alone, ['run', '--config', bed.configPath, '--json']);
    expect(first.code, first.stderr).toBe(0);
    const madeByARun = runCacheSize(alone);
    expect(madeByARun).toBeGreaterThan(0);

    const helped = path.join(scratch, 'helped');
    const help = await bin(helped, ['run', '--help']);
    expect(help.code, help.stderr).toBe(0);
    const ran = await bin(helped, ['run', '--config', bed.configPath, '--json', '--force']);
    expect(ran.code, ran.stderr).toBe(0);
    const again = await bin(helped, ['run', '--config', bed.configPath, '--json', '--force']);
    expect(again.code, again.stderr).toBe(0);
    // What the runs after `run --help` start from.
    expect(runCacheSize(helped)).toBeGreaterThanOrEqual(0.9 * madeByARun);
  }, 90_000);
});
