import { mkdtempSync, openSync, readSync, closeSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { StatusValidatorError, UsageError } from '../../errors.js';
import type { DumpChunk } from '../contract.js';
import { MIGRATIONS } from '../schema.js';
import { SqliteStore } from './store.js';

/** A run lock found in the old file: not copied (it belongs to a live process, or to none). */
export interface OldLock {
  name: string;
  host: string;
  pid: number;
  heartbeatAt: string;
}

/** An old SQLite cache, read for `cache migrate`: a consistent snapshot of it, at the current schema. */
export interface SqliteSource {
  readonly file: string;
  /** The run locks the file held when it was read. */
  readonly locks: readonly OldLock[];
  dump(): AsyncIterable<DumpChunk>;
  close(): Promise<void>;
}

/** The first 16 bytes of every SQLite 3 database (https://www.sqlite.org/fileformat.html#the_database_header). */
const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * Opens `file` as the source of a migration without writing to it: checked to be a SQLite
 * file holding a status-validator cache (refused otherwise, naming it), then copied with
 * SQLite's online backup (a consistent snapshot even while a run writes to it) into a
 * temporary file, which is brought up to the current schema and read from there. The old
 * file may sit on a network file system (moving off one is a reason to migrate): it is only
 * read, so the refusal that guards a live cache does not apply to it.
 */
export async function openSqliteSource(file: string): Promise<SqliteSource> {
  checkLooksLikeSqlite(file);
  let db: Database.Database | undefined;
  const scratch = mkdtempSync(path.join(tmpdir(), 'sv-migrate-'));
  const copy = path.join(scratch, 'snapshot.sqlite');
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      throw new UsageError(`${file} was written by a newer status-validator (schema ${version}; this one knows up to ${MIGRATIONS.length}).`, {
        hint: 'Run `cache migrate` with the version that wrote it (or newer). The file was not changed.',
      });
    }
    const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((t) => t.name));
    if (!tables.has('verdicts')) {
      throw new UsageError(`${file} is a SQLite database but not a status-validator cache (it has no verdicts table).`, {
        hint: "Pass --from the file your old config's cache.path named (by default ./status-validator.sqlite next to the config). Nothing was copied.",
      });
    }
    const locks = tables.has('locks') ? (db.prepare('SELECT name, host, pid, heartbeat_at AS heartbeatAt FROM locks ORDER BY name').all() as OldLock[]) : [];
    await db.backup(copy);
    db.close();
    const store = SqliteStore.open(copy);
    return {
      file,
      locks,
      dump: () => store.dump(),
      async close() {
        await store.close();
        rmSync(scratch, { recursive: true, force: true });
      },
    };
  } catch (error) {
    if (db?.open) db.close();
    rmSync(scratch, { recursive: true, force: true });
    if (error instanceof StatusValidatorError) throw error;
    const code = (error as { code?: unknown }).code;
    const damaged = code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT';
    throw new StatusValidatorError(`Cannot read ${file} as a status-validator cache: ${error instanceof Error ? error.message : String(error)}.`, {
      hint: damaged
        ? `The file is damaged. Salvage it with \`sqlite3 ${file} .recover | sqlite3 recovered.sqlite\` and pass --from recovered.sqlite. Nothing was copied.`
        : `Check that ${file} is readable by this user. Nothing was copied.`,
      cause: error,
    });
  }
}

/** Refuses, before SQLite sees it, a path that is missing, a folder, or a file that is not a SQLite database (exit 2). */
function checkLooksLikeSqlite(file: string): void {
  let size: number;
  try {
    const stat = statSync(file);
    if (stat.isDirectory()) throw new UsageError(`--from ${file} is a folder, not a cache file.`, { hint: 'Pass --from the SQLite file itself (its config named it cache.path).' });
    size = stat.size;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(code === 'ENOENT' ? `--from ${file}: no such file.` : `--from ${file} cannot be read (${code ?? String(error)}).`, {
      hint: 'Pass --from the path of the old SQLite cache (the cache.path of the config that used it).',
    });
  }
  const head = Buffer.alloc(SQLITE_MAGIC.length);
  let read = 0;
  if (size >= SQLITE_MAGIC.length) {
    let fd: number | undefined;
    try {
      fd = openSync(file, 'r');
      read = readSync(fd, head, 0, head.length, 0);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new UsageError(`--from ${file} cannot be read (${code ?? String(error)}).`, { hint: 'Check that this user may read it.' });
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
  if (read < head.length || !head.equals(SQLITE_MAGIC)) {
    throw new UsageError(`${file} is not a SQLite database, so not a status-validator cache${size === 0 ? ' (it is empty)' : ''}.`, {
      hint: "Pass --from the file your old config's cache.path named (by default ./status-validator.sqlite next to the config). Nothing was copied.",
    });
  }
}
