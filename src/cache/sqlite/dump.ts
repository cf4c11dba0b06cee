import type { Database, Statement } from 'better-sqlite3';
import { asyncOf } from './settled.js';
import { CATCH_UP, slotsOf } from '../catch-up.js';
import { DUMP_TABLES, type DumpChunk, type DumpTable } from '../contract.js';

/**
 * The order a dump pages through each table: its primary key, except runs, read in the
 * order they were recorded (rowid: the last tie-break of recent()), so that a copy, which
 * records them in dump order, lists a group's runs started in one millisecond as this file does.
 */
const KEYS: Record<DumpTable, string> = {
  verdicts: 'key',
  overrides: 'key',
  runs: 'rowid',
  batch_jobs: 'id',
  batch_lines: 'batch_id, custom_id, label',
  provider_limits: 'provider, model, key_hash',
  provider_fields: 'provider, model, field',
  embeddings: 'key',
  calibrations: 'scope',
  answer_sizes: 'provider, model, prompt',
};

const PAGE = 500;

/**
 * Every table a dump carries, a page at a time. Each page is one complete read (no
 * statement stays open across a yield: the connection may serve other work meanwhile).
 */
export function dumpTables(db: Database): AsyncIterable<DumpChunk> {
  return asyncOf(() => pages(db));
}

function* pages(db: Database): Generator<DumpChunk> {
  for (const table of DUMP_TABLES) {
    const page = db.prepare(`SELECT * FROM ${table} ORDER BY ${KEYS[table]} LIMIT ? OFFSET ?`);
    for (let offset = 0; ; offset += PAGE) {
      const rows = page.all(PAGE, offset) as Record<string, unknown>[];
      if (rows.length > 0) yield { table, rows };
      if (rows.length < PAGE) break;
    }
  }
}

/**
 * Adds a chunk's rows in one transaction, keeping any row already present (same primary
 * key): restoring twice changes nothing. Columns are checked against the table's own (never
 * spliced into SQL unchecked); a column the table lacks is refused. Returns the rows added;
 * rows of runs and batch_jobs the source has moved on since (../catch-up.ts) are updated
 * instead and counted in `counts.updated`.
 */
export function restoreChunk(db: Database, chunk: DumpChunk, counts?: { updated: number }): number {
  if (!(DUMP_TABLES as readonly string[]).includes(chunk.table)) throw new RangeError(`not a table of the cache: ${String(chunk.table)}`);
  const known = new Set((db.pragma(`table_info(${chunk.table})`) as Array<{ name: string }>).map((c) => c.name));
  const statements = new Map<string, Statement<unknown[]>>();
  const rule = CATCH_UP[chunk.table];
  const slots = rule ? slotsOf(rule.when) : [];
  const catchUp = db.prepare<unknown[]>(
    rule ? `UPDATE ${chunk.table} SET ${rule.set.map((c) => `"${c}" = ?`).join(', ')} WHERE id = ? AND (${rule.when.replace(/:[a-z_]+/g, '?')})` : 'SELECT 1',
  );
  return db.transaction(() => {
    let added = 0;
    for (const row of chunk.rows) {
      const columns = Object.keys(row).filter((c) => row[c] !== undefined);
      const unknown = columns.find((c) => !known.has(c));
      if (unknown !== undefined) throw new RangeError(`table ${chunk.table} has no column ${JSON.stringify(unknown)}`);
      const shape = columns.join(',');
      let insert = statements.get(shape);
      if (!insert) {
        insert = db.prepare<unknown[]>(`INSERT INTO ${chunk.table} (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map(() => '?').join(', ')}) ON CONFLICT DO NOTHING`);
        statements.set(shape, insert);
      }
      const inserted = insert.run(...columns.map((c) => sqliteValue(row[c]))).changes;
      added += inserted;
      if (inserted === 0 && rule && row.id !== undefined) {
        const changed = catchUp.run(...rule.set.map((c) => sqliteValue(row[c] ?? null)), row.id, ...slots.map((c) => sqliteValue(row[c] ?? null))).changes;
        if (counts) counts.updated += changed;
      }
    }
    return added;
  })();
}

/** What better-sqlite3 binds: booleans as 0/1, Dates as ISO text, objects as JSON text. */
function sqliteValue(value: unknown): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint' || Buffer.isBuffer(value)) return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value);
  return JSON.stringify(value);
}
