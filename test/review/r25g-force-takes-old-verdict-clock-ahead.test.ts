/**
 * Review of f64a014 (ClaimBook: a question asked again takes a cached verdict as `known` when
 * its checkedAt > since, `since` being when this run's book was made, by THIS run's clock).
 *
 * A verdict's checkedAt is written by the clock of whoever computed it: another host sharing
 * the cache, or this very host before NTP stepped its clock back. Here the earlier run's
 * verdicts carry a time 10 minutes ahead of the clock of the run that now forces them (a host
 * whose clock ran fast, the case src/cache/lock.ts already guards against: "the two clocks may
 * be minutes apart"). `run --force` must ask every question again (README: --force re-asks
 * rows whatever the cache holds) and write the new verdicts.
 *
 * Fails on SQLite and PostgreSQL (a shared cache.url across hosts: the likeliest place for two
 * clocks); passes on the code before f64a014. Not one request is made. split() wins each claim, looks the key up, finds the verdict
 * it was told to replace, and since its checkedAt (another clock's) is later than this run's
 * `since` it is taken as "another instance asked it again after this run chose it" and
 * committed as the answer: --force silently does nothing for every row, and the sheet keeps
 * the old verdicts with their old "Checked at". The comparison mixes two clocks where the
 * code before f64a014 compared a claim's claimedAt with a verdict's checkedAt, both by the
 * holder's clock. Invariant 9's other side: a question asked again must be answered again,
 * not by the verdict it replaces (DESIGN.md invariant 9; also the r25f force test's
 * expectation that every row shows the verdict the forced run gave).
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { HEADER, SPREADSHEET_ID, TAB, col, startBed, type Bed } from '../support/bed.js';
import { FAST_SHEETS, instancesAfterEach } from '../support/instances.js';
import { sampleRows } from '../support/sample-data.js';

const instances = instancesAfterEach();
let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

const OUTPUTS = ['Validation', 'Issues', 'Suggestion', 'Checked at'];
const AHEAD_MS = 10 * 60_000;

const CASES = [
  { engine: 'sqlite', targets: 1 },
  { engine: 'postgres', targets: 1 },
  // A portfolio of two targets on the same rows: the board leads to the same ClaimBook.split.
  { engine: 'sqlite', targets: 2 },
] as const;

for (const { engine, targets } of CASES) {
  describe(`--force after a run whose clock was ahead (${engine}, ${targets} target(s))`, () => {
    it('asks every question again and writes the new verdicts', { timeout: 60_000 }, async () => {
      const rows = sampleRows(8);
      const titles = targets === 1 ? [TAB] : [TAB, 'Copy 2'];
      const options = { rows, header: [...HEADER, ...OUTPUTS], moreTabs: [{ title: 'Copy 2', rows: [[...HEADER, ...OUTPUTS], ...rows] }], llm: { latencyMs: 10 }, config: { sheets: FAST_SHEETS, llm: { max_workers: 4 } } };
      let ahead: () => Promise<void>;
      let b: Bed;
      if (engine === 'sqlite') {
        bed = await startBed(options);
        b = bed;
        const file = path.join(bed.dir, 'cache.sqlite');
        ahead = async () => {
          const db = new Database(file);
          try {
            const verdicts = db.prepare('SELECT key, checked_at FROM verdicts').all() as Array<{ key: string; checked_at: string }>;
            expect(verdicts.length).toBe(rows.length);
            const update = db.prepare('UPDATE verdicts SET checked_at = ? WHERE key = ?');
            for (const v of verdicts) update.run(new Date(Date.parse(v.checked_at) + AHEAD_MS).toISOString(), v.key);
          } finally {
            db.close();
          }
        };
      } else {
        // Closed by instancesAfterEach.
        const made = await instances.postgresBed(options);
        b = made.bed;
        ahead = async () => {
          const verdicts = await made.cluster.sql<{ key: string; checked_at: string }>('SELECT key, checked_at FROM verdicts', [], made.database);
          expect(verdicts.length).toBe(rows.length);
          for (const v of verdicts) await made.cluster.sql('UPDATE verdicts SET checked_at = $1 WHERE key = $2', [new Date(Date.parse(v.checked_at) + AHEAD_MS).toISOString(), v.key], made.database);
        };
      }
      b.setConfig({ targets: [{ name: 'first', sheet: TAB }, { name: 'second', sheet: 'Copy 2' }] });
      const warm = await b.run('--target', 'first');
      expect(warm.code, warm.stderr).toBe(0);
      expect(b.llm.callCount()).toBe(rows.length);
      // The earlier run's clock (another host's, or this one's before NTP stepped it back) was 10 minutes fast: its verdicts carry that time.
      await ahead();

      const before = b.llm.callCount();
      const since = Date.now();
      const forced = await b.run('--force', ...(targets === 1 ? ['--target', 'first'] : []));
      expect(forced.code, forced.stderr).toBe(0);
      expect(b.llm.callCount() - before, '--force asks every question again, whatever time the cached verdict bears').toBe(rows.length);
      for (const title of titles) {
        const values = b.sheets.values(SPREADSHEET_ID, title);
        const checkedCol = col(values, 'Checked at');
        rows.forEach((_, i) => {
          const shown = Date.parse(values[i + 1]?.[checkedCol] ?? '');
          expect(shown, `${title} row ${i + 2}: the new verdict's Checked at, not the replaced one's`).toBeGreaterThanOrEqual(since - 1000);
          expect(shown, `${title} row ${i + 2}: the replaced verdict (clock ahead) still shown`).toBeLessThan(since + AHEAD_MS / 2);
        });
      }
    });
  });
}
