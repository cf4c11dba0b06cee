import { lstatSync, mkdirSync, readlinkSync, realpathSync, statfsSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { StatusValidatorError, UnsafeCacheError } from '../../errors.js';
import { NewerSchemaError, migrate } from '../schema.js';
import { hexType, networkFileSystemOf } from './filesystem.js';

export interface OpenSqliteOptions {
  /** The file system of a folder (fs.statfsSync): injectable so that tests can play a network one. */
  statfs?: ((folder: string) => { type: number | bigint }) | undefined;
}

/**
 * Opens (creating it if need be) the cache file: refused on a network file system,
 * WAL with synchronous=FULL, migrated. Every failure is a StatusValidatorError that
 * names the file and says what to do.
 */
export function openDatabase(file: string, options: OpenSqliteOptions = {}): Database.Database {
  let db: Database.Database | undefined;
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    refuseNetworkFileSystem(file, options.statfs ?? statfsSync);
    db = new Database(file);
    db.pragma('busy_timeout = 5000');
    // Switching a fresh file to WAL, and the first migration, can meet SQLITE_BUSY
    // without SQLite's busy handler ever waiting (several processes creating one file
    // at once): those two steps are retried for a while instead.
    whileBusy(() => db!.pragma('journal_mode = WAL'));
    // FULL, not NORMAL: "A transaction committed in WAL mode with synchronous=NORMAL might
    // roll back following a power loss or system crash" (https://www.sqlite.org/pragma.html#pragma_synchronous,
    // https://www.sqlite.org/wal.html). A verdict is committed before the sheet shows it
    // (invariant 2): rolled back, it would be shown yet unknown, and paid for again. FULL
    // syncs the WAL at each commit: ~2 ms a commit on the test machine's disk (0.05 ms with
    // NORMAL); bench R1 (1,000 rows, 20 workers, 100 ms) showed no difference beyond noise
    // (6.4-7.2 s either way), the commits being far fewer than the model's latency allows.
    db.pragma('synchronous = FULL');
    whileBusy(() => migrate(db!));
    return db;
  } catch (error) {
    if (db?.open) db.close();
    if (error instanceof StatusValidatorError) throw error;
    throw new StatusValidatorError(`Cannot open the cache ${file}: ${error instanceof Error ? error.message : String(error)}`, { hint: openHint(file, error), cause: error });
  }
}

/** Issue 21 item 6: see ./filesystem.ts. A folder statfs cannot read (another platform) is not refused: nothing is known against it. */
function refuseNetworkFileSystem(file: string, statfs: (folder: string) => { type: number | bigint }): void {
  const folder = realFolderOf(file);
  let type: number | bigint;
  try {
    type = statfs(folder).type;
  } catch {
    return;
  }
  const name = networkFileSystemOf(type);
  if (name === undefined) return;
  throw new UnsafeCacheError(
    `The cache ${file} is on a network file system (${name}, statfs type ${hexType(type)}): SQLite's locks and its write-ahead log are unreliable there (https://www.sqlite.org/wal.html, https://www.sqlite.org/lockingv3.html#how_to_corrupt), so two runs could both hold one sheet's lock and corrupt the file silently. The cache was not opened.`,
    {
      hint: `Set cache.path to a folder on a local disk, or, to share the cache between machines or instances, set cache.url to a PostgreSQL database (e.g. cache.url: "\${DATABASE_URL}").`,
    },
  );
}

/**
 * The folder the file really lives in, which is what SQLite will write to: a cache.path
 * that is a symlink (even one to a file not created yet) leads elsewhere, perhaps onto a
 * mounted share, and the folder holding the link says nothing about that. Follows links
 * (at most 40, as Linux's ELOOP limit) then realpaths the folder, or its nearest existing
 * ancestor when the folder does not exist yet.
 */
function realFolderOf(file: string): string {
  let current = path.resolve(file);
  for (let hops = 0; hops < 40; hops++) {
    try {
      if (!lstatSync(current).isSymbolicLink()) break;
      current = path.resolve(path.dirname(current), readlinkSync(current));
    } catch {
      break;
    }
  }
  let folder = path.dirname(current);
  for (;;) {
    try {
      return realpathSync(folder);
    } catch {
      const parent = path.dirname(folder);
      if (parent === folder) return path.dirname(current);
      folder = parent;
    }
  }
}

/**
 * What to do when the cache will not open, by cause. The file holds every verdict paid
 * for: no hint may suggest throwing it away, since a new file means paying for every row again.
 */
function openHint(file: string, error: unknown): string {
  if (error instanceof NewerSchemaError) return `Upgrade status-validator to the version that wrote ${file} (or newer); this one leaves the file untouched.`;
  const raw = (error as { code?: unknown } | undefined)?.code;
  const code = typeof raw === 'string' ? raw : '';
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    return 'Another process kept the cache locked for more than 5 s (a run, a batch command, or a tool with the file open): wait for it to finish and try again. Nothing was changed.';
  }
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') {
    return `${file} is damaged or is not a status-validator cache. Keep it (it holds the verdicts already paid for): restore it from a backup, or salvage it with \`sqlite3 ${file} .recover | sqlite3 recovered.sqlite\` and point cache.path at the result. A new, empty file would ask (and pay for) every row again.`;
  }
  if (code === 'SQLITE_FULL') return 'The disk holding the cache is full: free some space and try again.';
  return `Check cache.path (${file}): its folder must exist or be creatable, and both the folder and the file must be writable by this user (SQLite writes -wal and -shm files next to it).`;
}

/** Runs a step again while SQLite answers SQLITE_BUSY, for up to BUSY_PATIENCE_MS (a synchronous wait: opening is synchronous). */
function whileBusy<T>(step: () => T): T {
  const deadline = Date.now() + BUSY_PATIENCE_MS;
  for (;;) {
    try {
      return step();
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'SQLITE_BUSY' || Date.now() > deadline) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20 + Math.random() * 80);
    }
  }
}

const BUSY_PATIENCE_MS = 10_000;
