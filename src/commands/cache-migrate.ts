import { DUMP_TABLES, openSqliteSource, openStore, type DumpTable, type OldLock, type SqliteSource, type Store } from '../cache/index.js';
import { loadPortfolio } from '../config/index.js';
import { StatusValidatorError, UsageError, redact } from '../errors.js';
import { grouped, plural } from '../plural.js';
import type { CommandIO } from './context.js';

export interface CacheMigrateFlags {
  config: string;
  from: string;
  json?: boolean;
}

export interface TableCopy {
  table: DumpTable;
  /** Rows the old file holds. */
  found: number;
  /** Rows the database did not hold yet, now copied. */
  added: number;
  /** Rows it held already (same key): kept as they are, except those counted in `updated`. */
  alreadyThere: number;
  /** Of those, rows the old file has moved on since the last copy, brought up to date: a run that was running and has ended, a batch job applied since. */
  updated: number;
}

/** How often, at most, a table's progress is told while it is being copied. */
const PROGRESS_EVERY_MS = 1_000;

/**
 * `cache migrate` (issue 21 item 5): copies an old SQLite cache (verdicts, reviewers'
 * verdicts, runs, batch jobs, learned limits, semantic vectors) into the PostgreSQL
 * database the config names in cache.url, a chunk at a time through the Store's
 * dump()/restore(). A row the database already holds is kept, so running it twice changes
 * nothing, and an instance sharing the database meanwhile loses nothing. The run locks are
 * not copied: a lock belongs to a live process, which holds it in the old file.
 */
export async function cacheMigrateCommand(flags: CacheMigrateFlags, io: CommandIO): Promise<number> {
  const portfolio = loadPortfolio(flags.config, io.env);
  const cache = portfolio.targets[0]?.cache;
  if (cache?.url === undefined) {
    throw new UsageError(`${flags.config} has no cache.url: cache migrate copies an old SQLite cache INTO the PostgreSQL database named by cache.url, and this config names none.`, {
      hint: 'Add cache.url to the config (e.g. cache.url: "${DATABASE_URL}", with DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/DATABASE) and run it again.',
    });
  }
  const source = await openSqliteSource(flags.from);
  let store: Store | undefined;
  try {
    store = await openStore(cache);
    const copies = await copyAll(source, store, flags.from, io);
    if (flags.json) {
      io.stdout.write(`${JSON.stringify({ from: flags.from, to: store.location, tables: copies, locksNotCopied: source.locks }, null, 2)}\n`);
    } else {
      io.stdout.write(render(copies, flags.from, store.location, source.locks));
    }
    return 0;
  } finally {
    await Promise.allSettled([source.close(), store?.close()]);
  }
}

async function copyAll(source: SqliteSource, store: Store, from: string, io: CommandIO): Promise<TableCopy[]> {
  const copies = new Map<DumpTable, TableCopy>(DUMP_TABLES.map((table) => [table, { table, found: 0, added: 0, alreadyThere: 0, updated: 0 }]));
  io.stderr.write(`Copying ${from} into ${store.location}...\n`);
  let current: TableCopy | undefined;
  let toldAt = 0;
  const finish = (copy: TableCopy | undefined) => {
    if (copy) io.stderr.write(`  ${copy.table}: ${progress(copy)}, done\n`);
  };
  try {
    for await (const chunk of source.dump()) {
      const copy = copies.get(chunk.table);
      if (!copy) continue;
      if (copy !== current) {
        finish(current);
        current = copy;
        toldAt = Date.now();
      }
      const counts = { updated: 0 };
      const added = await store.restore(chunk, counts);
      copy.updated += counts.updated;
      copy.found += chunk.rows.length;
      copy.added += added;
      copy.alreadyThere = copy.found - copy.added;
      if (Date.now() - toldAt >= PROGRESS_EVERY_MS) {
        toldAt = Date.now();
        io.stderr.write(`  ${copy.table}: ${progress(copy)} so far\n`);
      }
    }
    finish(current);
  } catch (error) {
    const during = current ? ` while copying ${current.table} (${progress(current)} before the failure)` : '';
    const why = error instanceof Error ? error.message : String(error);
    // Already-copied chunks stay (each was one transaction): running it again resumes, adding only what is missing.
    if (error instanceof StatusValidatorError) {
      throw new StatusValidatorError(`cache migrate stopped${during}: ${why}`, { hint: error.hint ?? 'Run it again once fixed: rows already copied are kept, and only the missing ones are added.', cause: error });
    }
    throw new StatusValidatorError(`cache migrate stopped${during}: ${redact(why)}`, {
      hint: 'Rows already copied are kept; run it again to add the rest. If it fails again at the same table, the old file may hold a row the database refuses: salvage the file with `sqlite3 OLD.sqlite .recover`.',
      cause: error,
    });
  }
  return [...copies.values()];
}

const n = grouped;

function progress(copy: TableCopy): string {
  return `${n(copy.found)} read, ${n(copy.added)} added, ${n(copy.alreadyThere)} already there${copy.updated > 0 ? ` (${n(copy.updated)} of them updated)` : ''}`;
}

function render(copies: readonly TableCopy[], from: string, to: string, locks: readonly OldLock[]): string {
  const lines = [`Copied ${from} into ${to}:`, `  ${'table'.padEnd(16)}${'found'.padStart(9)}${'added'.padStart(9)}${'already there'.padStart(15)}`];
  for (const c of copies) lines.push(`  ${c.table.padEnd(16)}${n(c.found).padStart(9)}${n(c.added).padStart(9)}${n(c.alreadyThere).padStart(15)}`);
  const added = copies.reduce((sum, c) => sum + c.added, 0);
  const updated = copies.filter((c) => c.updated > 0);
  const kept = updated.length === 0 ? 'rows the database already held were kept as they were' : `rows the database already held were kept as they were, except ${updated.map((c) => `${plural(c.updated, c.table === 'runs' ? 'run' : 'batch job')} in ${c.table}`).join(' and ')} updated to the old file's newer state (${updated.some((c) => c.table === 'runs') ? 'a run copied while it was running has ended since' : 'a batch job applied since the last copy'})`;
  lines.push(added === 0 && updated.length === 0 ? 'Nothing new: the database already held every row.' : `${plural(added, 'row')} added; ${kept}.`);
  lines.push(
    locks.length === 0
      ? 'Run locks are not copied (they belong to live processes); the old file held none.'
      : `Run locks are not copied (they belong to live processes): the old file holds ${plural(locks.length, 'lock')} (${locks.map((l) => `${l.name} by pid ${l.pid} on ${l.host}`).join('; ')}). A run still using the old file keeps writing there: when it ends, run cache migrate again to copy its answers.`,
  );
  return `${lines.join('\n')}\n`;
}
