/**
 * Review of the PostgreSQL store (issue 21 item 5, the contract's dump/restore: "copies every …
 * run"). recent() orders runs of one start time (the runs of a group, one per target, started in
 * one millisecond) by `seq`, the order rows were added (SQLite's rowid). A dump carries no seq and
 * is read in primary-key (id) order, and restore inserts in that order, so the copy numbers the
 * runs by id, not by the order they were added: `runs` and the Runs tab list the same history in
 * another order after `cache migrate`. PostgreSQL gives an identity column its next value per
 * inserted row, in insertion order (https://www.postgresql.org/docs/15/ddl-identity-columns.html),
 * and a query's row order is only what its ORDER BY fixes
 * (https://www.postgresql.org/docs/15/queries-order.html).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/cache/contract.js';
import { freshPostgresStore } from '../support/postgres-store.js';

const opened: Store[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) if (s.isOpen) await s.close();
});

async function fresh(): Promise<Store> {
  const s = await freshPostgresStore();
  opened.push(s);
  return s;
}

describe('dump then restore keeps the run history\'s order', () => {
  it('a group\'s runs started in one millisecond list in the same order in the copy', async () => {
    const source = await fresh();
    const at = '2026-12-04T23:00:00.000Z';
    // A run over three targets: its runs start together, ids random (later targets can sort first).
    for (const [id, target] of [['r-9f', 'Orders'], ['r-1c', 'Invoices'], ['r-5a', 'Returns']] as const) {
      await source.runs.start({ id, startedAt: at, trigger: 'cli', spreadsheetId: 's', sheet: target, target, group: 'g-1' });
    }
    const before = (await source.runs.recent(10)).map((r) => r.id);
    expect(before).toEqual(['r-9f', 'r-1c', 'r-5a']);

    const copy = await fresh();
    for await (const chunk of source.dump()) await copy.restore(chunk);
    expect((await copy.runs.recent(10)).map((r) => r.id)).toEqual(before);
  });
});
