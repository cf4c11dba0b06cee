import { StatusValidatorError } from '../../errors.js';
import { CATCH_UP, slotsOf } from '../catch-up.js';
import { DUMP_TABLES, type DumpChunk, type DumpTable } from '../contract.js';
import type { Db } from './db.js';

/**
 * Each table's columns (SQLite's names, so that dumps cross between the stores) and primary
 * key. Only these names ever reach SQL: a dump's row is read by them, never by its own keys.
 */
const TABLES: Record<DumpTable, { columns: readonly string[]; key: readonly string[]; order?: string }> = {
  verdicts: { columns: ['key', 'verdict', 'issues', 'suggestion', 'model', 'provider', 'checked_at', 'confidence', 'prompt_tokens', 'completion_tokens', 'cached_tokens'], key: ['key'] },
  overrides: { columns: ['key', 'verdict', 'note', 'recorded_at'], key: ['key'] },
  // Runs in the order they were added (seq, SQLite's rowid): recent() breaks ties of one start
  // time by it, and a restore adds rows in the dump's order, so the copy numbers them alike.
  runs: { columns: ['id', 'started_at', 'ended_at', 'trigger', 'spreadsheet_id', 'sheet', 'status', 'summary', 'triggered_by', 'request', 'target', 'run_group'], key: ['id'], order: 'seq' },
  batch_jobs: {
    columns: ['id', 'provider', 'model', 'spreadsheet_id', 'sheet', 'target', 'input_file_id', 'status', 'requests', 'created_at', 'updated_at', 'output_file_id', 'error_file_id', 'applied_at', 'applied_summary'],
    key: ['id'],
  },
  batch_lines: { columns: ['batch_id', 'custom_id', 'label', 'key', 'inputs'], key: ['batch_id', 'custom_id', 'label'] },
  provider_limits: { columns: ['provider', 'model', 'key_hash', 'rpm', 'tpm', 'learned_at', 'contradicted'], key: ['provider', 'model', 'key_hash'] },
  provider_fields: { columns: ['provider', 'model', 'field', 'learned_at', 'message'], key: ['provider', 'model', 'field'] },
  embeddings: { columns: ['key', 'status', 'model', 'scope', 'vector'], key: ['key'] },
  calibrations: { columns: ['scope', 'record', 'calibrated_at'], key: ['scope'] },
  answer_sizes: { columns: ['provider', 'model', 'prompt', 'sizes', 'learned_at'], key: ['provider', 'model', 'prompt'] },
};

const CHUNK_ROWS = 500;
/** PostgreSQL takes at most 65,535 parameters in one statement. */
const MAX_PARAMETERS = 65_535;

/** Every table, a chunk at a time in primary-key order (keyset paging: each chunk starts after the last key read). */
export async function* dumpTables(db: Db): AsyncIterable<DumpChunk> {
  for (const table of DUMP_TABLES) {
    const { columns, key, order } = TABLES[table];
    // Keyset paging on the listing's order: the primary key, or a single ordering column of its own.
    const by = order ? [order] : key;
    const selected = order ? [...columns, order] : columns;
    let after: unknown[] | undefined;
    for (;;) {
      const where = after ? `WHERE (${by.join(', ')}) > (${by.map((_, i) => `$${i + 1}`).join(', ')})` : '';
      const rows = await db.rows(`SELECT ${selected.join(', ')} FROM ${table} ${where} ORDER BY ${by.join(', ')} LIMIT ${CHUNK_ROWS}`, after);
      const last: Record<string, unknown> = rows[rows.length - 1] ?? {};
      const next = by.map((k) => last[k]);
      // The ordering column is this store's own numbering: it is not part of the dump (a restore numbers rows anew).
      if (order) for (const row of rows) delete (row as Record<string, unknown>)[order];
      if (rows.length > 0) yield { table, rows };
      if (rows.length < CHUNK_ROWS) break;
      after = next;
    }
  }
}

/**
 * Adds the chunk's rows, keeping any row already present (ON CONFLICT DO NOTHING): the rows
 * added. Rows of runs and batch_jobs the source has moved on since (../catch-up.ts) are then
 * updated, counted in `counts.updated`.
 */
export async function restoreChunk(db: Db, chunk: DumpChunk, counts?: { updated: number }): Promise<number> {
  const spec = (TABLES as Partial<Record<string, (typeof TABLES)[DumpTable]>>)[chunk.table];
  if (!spec) throw new StatusValidatorError(`A dump names a table this cache does not know: ${String(chunk.table).slice(0, 60)}.`);
  if (chunk.rows.length === 0) return 0;
  // The columns the rows carry (a dump of an older schema may lack some: their defaults apply).
  const columns = spec.columns.filter((c) => chunk.rows.some((row) => row[c] !== undefined));
  const perStatement = Math.max(1, Math.floor(MAX_PARAMETERS / columns.length));
  return db.tx(async (client) => {
    let added = 0;
    for (let i = 0; i < chunk.rows.length; i += perStatement) {
      const rows = chunk.rows.slice(i, i + perStatement);
      const values: unknown[] = [];
      const tuples = rows.map((row) => `(${columns.map((c) => `$${values.push(cell(row[c]))}`).join(', ')})`);
      const result = await client.query(`INSERT INTO ${chunk.table} (${columns.join(', ')}) VALUES ${tuples.join(', ')} ON CONFLICT DO NOTHING`, values);
      added += result.rowCount ?? 0;
    }
    const rule = CATCH_UP[chunk.table];
    // Only when some row was already there: a chunk added whole has nothing to catch up.
    if (rule && added < chunk.rows.length) {
      const slots = slotsOf(rule.when);
      let n = rule.set.length + 1;
      const when = rule.when.replace(/:[a-z_]+/g, () => `$${++n}::text`);
      const sql = `UPDATE ${chunk.table} SET ${rule.set.map((c, i) => `${c} = $${i + 1}`).join(', ')} WHERE id = $${rule.set.length + 1} AND (${when})`;
      let updated = 0;
      for (const row of chunk.rows) {
        if (row.id === undefined) continue;
        const result = await client.query(sql, [...rule.set.map((c) => cell(row[c])), cell(row.id), ...slots.map((c) => cell(row[c]))]);
        updated += result.rowCount ?? 0;
      }
      if (counts) counts.updated += updated;
    }
    return added;
  });
}

/** A value as the driver sends it: SQLite's BLOBs arrive as Buffers or Uint8Arrays, its integers maybe as bigints. */
function cell(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array && !Buffer.isBuffer(value)) return Buffer.from(value);
  return value;
}
