/**
 * Node 20's start of the built CLI with a V8 code cache. Node 22.1 caches the compiled code
 * of ES modules itself (module.enableCompileCache, called by bin/status-validator.js); Node
 * 20 has no such cache, and compiling the ~1.7 MB of JavaScript a `run` loads was a good
 * part of its start (issue 25, bench B1). So on Node 20 the bin runs the same code as one
 * classic script (dist/script/cli.js, built by scripts/build.ts: a function expression with
 * CommonJS's parameters) through vm.Script, which takes V8's cached data. The cache is made
 * by a successful command (script.createCachedData() once it has run a while, so that it
 * holds the functions the command compiled lazily), one file a command, keyed by the
 * script's CRC-32, the node options it started with and the V8 version. A cache taken before TAKE_AFTER_MS (a command that ended
 * sooner) is marked partial, and taken again by the next command that runs that long. A cache V8 rejects, a corrupt or
 * unreadable one is ignored and written anew; a cache folder that cannot be written to
 * only costs the next start its cache. `NODE_DEBUG=status-validator-code-cache` tells what
 * happened on stderr; STATUS_VALIDATOR_CODE_CACHE names the folder (`off`: none).
 */
import { lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { debuglog } from 'node:util';
import { Script } from 'node:vm';
import { crc32 } from 'node:zlib';
import { resetHeapFlags, setHeapFlags } from './heap-flags.js';

const log = debuglog('status-validator-code-cache');

/** What the start found in the cache (also what NODE_DEBUG reports). */
export type CacheState = 'off' | 'absent' | 'accepted' | 'rejected' | 'corrupt' | 'unsafe';

type Wrapped = (exports: object, require: NodeJS.Require, module: { exports: object }, filename: string, dirname: string) => void;

/** Runs the script bundle at `scriptUrl`, with the cache of the command `argv` names. */
export function runScript(scriptUrl: URL, argv: readonly string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): CacheState {
  const file = fileURLToPath(scriptUrl);
  const bytes = readFileSync(file);
  const cacheFile = cacheFileOf(bytes, argv, env);
  const { data, state: found, whole, checksum } = readCache(cacheFile);
  const script = new Script(bytes.toString('utf8'), { filename: file, ...(data ? { cachedData: data } : {}) });
  const state: CacheState = data === undefined ? found : script.cachedDataRejected === true ? 'rejected' : 'accepted';
  log('%s %s', state, cacheFile ?? '(no cache folder)');
  const wrapped = script.runInThisContext() as Wrapped;
  // A whole cache is kept as it is; a partial one is taken again if this command runs long enough.
  if (cacheFile !== undefined && !(state === 'accepted' && whole) && state !== 'unsafe' && !onlyTells(argv)) keepCache(script, cacheFile, state === 'accepted', checksum);
  const module = { exports: {} };
  wrapped.call(module.exports, module.exports, createRequire(file), module, file, path.dirname(file));
  return state;
}

/**
 * How long into a command its code is taken for the cache, if it has not ended by then: a
 * run asks its first questions ~0.3 s after its start, so by now it has compiled what a start
 * needs; later, V8 drops the bytecode of functions left unused (a 5,000-row run's cache at
 * its end held 1.4 MB where a 200-row run's held 2.4 MB), and the next start would compile
 * those again.
 */
const TAKE_AFTER_MS = 2000;

/**
 * The cache holds the functions the command compiled as it ran (not only those V8 compiles
 * eagerly): taken at its end or TAKE_AFTER_MS into it, whichever comes first, and written at
 * its end if it succeeded (after a failure it may hold less than the next successful
 * command needs). Taken at the end, it is partial: a run that ended within a second (a
 * test's three rows, a warm run that asked nothing) never compiled what asking takes, and
 * a later run would otherwise compile that at every start, the partial cache being accepted
 * (issue 25: B1 started ~0.1 s slower from a cache a short run made). `onlyWhole`: a partial
 * cache is in use, replaced only by a whole one. Not for a folder others can write to: no
 * start would read it there.
 */
function keepCache(script: Script, cacheFile: string, onlyWhole: boolean, found: number | undefined): void {
  let data: Buffer | undefined;
  let whole = false;
  const take = () => {
    // Under V8's default flags, which the next start compiles under (heap-flags.ts): V8
    // accepts cached data only under the flags it was made with.
    resetHeapFlags();
    data ??= script.createCachedData();
    setHeapFlags();
  };
  setTimeout(() => {
    take();
    whole = true;
    log('taken %s', cacheFile);
  }, TAKE_AFTER_MS).unref();
  process.once('exit', (code) => {
    if (code !== 0 || (onlyWhole && !whole)) return;
    // Two commands at once (two cron entries): a longer one may have written a whole cache
    // since this one started; a partial cache never replaces it (the file this start found,
    // rejected or damaged, it does).
    if (!whole) {
      const now = readCache(cacheFile);
      if (now.whole === true && now.checksum !== found) return;
    }
    take();
    if (data) writeCache(cacheFile, data, whole);
  });
}

/**
 * The cache's file: its folder is the user's own (V8 trusts cached data as code, so a
 * folder another user could write to is not read), its name the script's CRC-32, the
 * command, the node options, V8's version and the architecture.
 */
function cacheFileOf(bytes: Buffer, argv: readonly string[], env: NodeJS.ProcessEnv): string | undefined {
  const setting = env.STATUS_VALIDATOR_CODE_CACHE;
  if (setting === 'off') return undefined;
  const uid = process.getuid?.();
  const dir = setting !== undefined && setting !== '' ? path.resolve(setting) : path.join(tmpdir(), `status-validator-code-cache${uid === undefined ? '' : `-${uid}`}`);
  const command = argv.find((arg) => !arg.startsWith('-')) ?? '';
  const name = /^[a-z][a-z-]{0,30}$/.test(command) ? command : 'other';
  return path.join(dir, `cli-${crc32(bytes).toString(16).padStart(8, '0')}-${name}${flagsPart(env)}-v8-${process.versions.v8}-${process.arch}.cache`);
}

/**
 * The node options this process started with, as a part of the cache's name: V8 rejects
 * cached data made under other flags (--max-old-space-size, --stack-size...), so two cron
 * entries, one with NODE_OPTIONS, would each find the other's cache rejected and replace it,
 * run after run. Each set of options keeps a cache of its own; none, the plain name.
 */
function flagsPart(env: NodeJS.ProcessEnv): string {
  const options = [...process.execArgv, env.NODE_OPTIONS ?? ''].join(' ').trim();
  return options === '' ? '' : `-flags-${crc32(options).toString(16).padStart(8, '0')}`;
}

/**
 * The cached data, if the file is intact (its first 4 bytes are the CRC-32 of the rest: a
 * byte that says whether the cache is whole or partial, then V8's data) and in a folder only
 * this user writes.
 */
export function readCache(cacheFile: string | undefined): { data?: Buffer; state: CacheState; whole?: boolean; checksum?: number } {
  if (cacheFile === undefined) return { state: 'off' };
  let raw: Buffer;
  try {
    if (!safeFolder(path.dirname(cacheFile))) return { state: 'unsafe' };
    raw = readFileSync(cacheFile);
  } catch {
    return { state: 'absent' };
  }
  // V8 checks its own header (version, flags, source length) but, in a release build, not
  // the payload's checksum: a cut or damaged file is caught here rather than deserialised.
  if (raw.length <= HEADER_BYTES || raw.readUInt32LE(0) !== crc32(raw.subarray(4))) return { state: 'corrupt' };
  const kind = raw[4];
  if (kind !== PARTIAL && kind !== WHOLE) return { state: 'corrupt' };
  return { data: raw.subarray(HEADER_BYTES), state: 'absent', whole: kind === WHOLE, checksum: raw.readUInt32LE(0) };
}

/**
 * A folder only this user can change: owned by them, writable by no one else, and, when
 * reached through a symbolic link, a link of their own (another user's link in a shared
 * folder such as /tmp could be pointed elsewhere between this check and the read).
 */
function safeFolder(dir: string): boolean {
  const uid = process.getuid?.();
  if (uid === undefined) return true;
  const link = lstatSync(dir);
  if (link.isSymbolicLink() && link.uid !== uid) return false;
  const stat = link.isSymbolicLink() ? statSync(dir) : link;
  return stat.isDirectory() && stat.uid === uid && (stat.mode & 0o022) === 0;
}

/**
 * A command line that only prints help or the version (`run --help`, `help run`, `-V`): it
 * compiles next to nothing of its command, and a cache made from it would be the one every
 * later start of that command takes (an accepted cache is never made again).
 */
function onlyTells(argv: readonly string[]): boolean {
  return argv.some((arg) => arg === '-h' || arg === '--help' || arg === '-V' || arg === '--version') || argv.find((arg) => !arg.startsWith('-')) === 'help';
}

/** The header: the CRC-32 of what follows, then whether the cache is partial or whole. */
const HEADER_BYTES = 5;
const PARTIAL = 0;
const WHOLE = 1;

/** How long a cache of another build goes unread before a start that writes its own removes it. */
export const PRUNE_UNUSED_MS = 7 * 24 * 3_600_000;
/** A cache file's name (cacheFileOf): the script's CRC-32 first. */
const CACHE_NAME = /^cli-([0-9a-f]{8})-[A-Za-z0-9.-]+\.cache$/;
/** A temporary file a writer left (killed between its write and its rename). */
const TEMPORARY_NAME = /^cli-[0-9a-f]{8}-[A-Za-z0-9.-]+\.cache\.\d+\.tmp$/;

/**
 * Removes, from the folder a cache was just written to, the caches of other builds of the
 * script (another CRC-32: an upgrade leaves the old version's behind, ~2 MB a command and set
 * of node options) unread and unchanged for PRUNE_UNUSED_MS, and temporary files left for a
 * day. Read means read by a start (the file's access time: Linux's relatime updates it at
 * least daily, so a cache in use is never a week old by it). Only regular files with the
 * cache's names; what fails to go is left (another process may prune it at once).
 */
export function prune(dir: string, written: string, now = Date.now()): void {
  const build = CACHE_NAME.exec(written)?.[1];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const old = CACHE_NAME.exec(name);
    const leftover = TEMPORARY_NAME.test(name);
    if (!leftover && (old === null || old[1] === build)) continue;
    const file = path.join(dir, name);
    try {
      const stat = lstatSync(file);
      const unused = now - Math.max(stat.atimeMs, stat.mtimeMs);
      if (stat.isFile() && unused > (leftover ? 24 * 3_600_000 : PRUNE_UNUSED_MS)) {
        unlinkSync(file);
        log('pruned %s', file);
      }
    } catch {
      // Gone already, or not ours to remove.
    }
  }
}

/** Atomically (a temporary file renamed over it): a start reading it meanwhile sees the old cache or the new one, never half of one. */
export function writeCache(cacheFile: string, data: Buffer, whole: boolean): void {
  const temporary = `${cacheFile}.${process.pid}.tmp`;
  try {
    mkdirSync(path.dirname(cacheFile), { recursive: true, mode: 0o700 });
    const body = Buffer.concat([Buffer.of(whole ? WHOLE : PARTIAL), data]);
    const header = Buffer.alloc(4);
    header.writeUInt32LE(crc32(body));
    writeFileSync(temporary, Buffer.concat([header, body]), { mode: 0o600 });
    renameSync(temporary, cacheFile);
    log('written %s (%d bytes, %s)', cacheFile, body.length + 4, whole ? 'whole' : 'partial');
    prune(path.dirname(cacheFile), path.basename(cacheFile));
  } catch (error) {
    // A read-only or full disk: the command has done its work; only the next start is slower.
    log('not written %s: %s', cacheFile, error instanceof Error ? error.message : String(error));
    try {
      unlinkSync(temporary);
    } catch {
      // It was never made.
    }
  }
}
