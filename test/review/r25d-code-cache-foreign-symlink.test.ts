/**
 * r25d review (merge 92dd12c, src/cli/code-cache.ts): the code cache is read through a
 * symbolic link another user owns, and so can re-point at will.
 *
 * The defect: safeFolder() stat()s the cache folder, following links, and checks the owner and
 * mode of the folder at the end; the cache file is then read by path, through the link again.
 * The default folder is a predictable name in the shared, sticky temp folder
 * (`/tmp/status-validator-code-cache-<uid>`), so another user can create it first as a link
 * to the victim's own folder: the check passes (the target is the victim's, mode 0700), and
 * between that check and readFileSync() the link's owner re-points it to a folder of theirs
 * holding a cache of their making. V8 runs cached data as code (code-cache.ts says so itself).
 *
 * Invariant broken: code-cache.ts's "V8 trusts cached data as code, so a folder another user
 * could write to is not read" (a link another user owns is a folder they can swap).
 *
 * Expected: a cache folder reached through a link that is not the user's own (or whose parent
 * others may write to without being the user's) is 'unsafe': neither read nor written, as a
 * folder mode 0777 already is. Shown here deterministically, without the race: the link is
 * owned by `nobody` (uid 65534) in a sticky, world-writable folder, as /tmp is; the start
 * reports 'accepted' where it must report 'unsafe'. Needs root to give the link to another uid.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, lchownSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
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
const NOBODY = 65534;

let bed: Bed;
let scratch = '';
beforeAll(async () => {
  await buildDist();
  scratch = mkdtempSync(path.join(tmpdir(), 'sv-r25d-link-'));
  bed = await startBed({ rows: sampleRows(3) });
}, 60_000);
afterAll(async () => {
  await bed.close();
  rmSync(scratch, { recursive: true, force: true });
});

async function states(cacheDir: string): Promise<string[]> {
  const child = spawn(process.execPath, [BIN, 'run', '--config', bed.configPath, '--json', '--force'], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...bed.env, STATUS_VALIDATOR_CODE_CACHE: cacheDir, NODE_DEBUG: 'status-validator-code-cache' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const [code] = (await once(child, 'close')) as [number | null];
  expect(code, stderr).toBe(0);
  return [...stderr.matchAll(/^STATUS-VALIDATOR-CODE-CACHE \d+: (\w+)/gm)].map((m) => m[1] ?? '');
}

describe.runIf(!NODE_CACHES_ESM && process.getuid?.() === 0)('a code cache folder reached through another user\'s link', () => {
  it('is not read (the link\'s owner can re-point it between the check and the read)', async () => {
    const own = path.join(scratch, 'own');
    expect(await states(own)).toEqual(['absent', 'written']);
    expect(await states(own)).toEqual(['accepted']);

    // A shared temp folder (sticky, world-writable, as /tmp), where another user made the link first.
    const shared = path.join(scratch, 'shared-tmp');
    mkdirSync(shared);
    chmodSync(shared, 0o1777);
    const link = path.join(shared, 'status-validator-code-cache-0');
    symlinkSync(own, link);
    lchownSync(link, NOBODY, NOBODY);
    expect(lstatSync(link).uid).toBe(NOBODY);

    expect(await states(link)).toEqual(['unsafe']);
  }, 90_000);
});
