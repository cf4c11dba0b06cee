/**
 * Review of d61a1ed (a portfolio's questions claimed in the store), crossed with a killed
 * instance: instance 2 runs one target (tab "Copy 3") and is SIGKILLed while its requests are
 * in flight, its questions claimed in the store. Instance 1 then runs a portfolio of two other
 * targets (tabs "Statuses" and "Copy 2") holding the same rows. The dead run holds nothing
 * (invariant 8: "no lock outlives its holder: a recycled pid, a dropped database connection
 * ... is not a holder"; ClaimBook.waitFor: undefined once "its run holds no lock any more"),
 * so instance 1 must ask those questions itself at once and end within seconds, every row
 * answered.
 *
 * Fails on both engines, with several targets and with one (so not d61a1ed's own, but now the
 * portfolio's too): instance 1 sends no request at all for 12 s (it would for CLAIM_STALE_MS,
 * 2 minutes). Its first max_workers requests are the dead run's claimed questions; each worker
 * waits in ClaimBook.waitFor, polling, for a claim it judges LIVE, and the other questions
 * wait for a worker. Why: a claim's liveness is `EXISTS (SELECT 1 FROM locks WHERE
 * locks.run_id = claims.holder)` (src/cache/sqlite/claims.ts holderStatement,
 * src/cache/postgres/claims.ts holderOf and the claim statement), but a killed run's `locks`
 * row stays until the next acquirer of THAT tab replaces it ("a crash leaves its row until the
 * next acquirer replaces it", src/cache/postgres/locks.ts). The run locks themselves judge
 * the holder by its pid and process start (SQLite) or its advisory lock's session (pg_locks);
 * the claims do not. Checked: with the dead run's locks row deleted by hand after the kill,
 * the same test passes in ~2 s. test/e2e/instances-kill.test.ts passes only because its second
 * instance takes over the dead run's own tab, replacing that row.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { HEADER, SPREADSHEET_ID, TAB, col, deepMerge, startBed, type Bed } from '../support/bed.js';
import { expectedCells, exitedWithin, waitFor } from '../support/inspect.js';
import { FAST_SHEETS, instancesAfterEach, isChat } from '../support/instances.js';
import { sampleRows } from '../support/sample-data.js';

const instances = instancesAfterEach();
let sqliteBed: Bed | undefined;

const OUTPUTS = ['Validation', 'Issues', 'Suggestion', 'Checked at'];


const CASES = [
  { engine: 'sqlite', targets: ['first', 'second'] },
  { engine: 'postgres', targets: ['first', 'second'] },
  // One target: what is not the portfolio's own.
  { engine: 'sqlite', targets: ['first'] },
] as const;

for (const { engine, targets } of CASES) {
  describe(`an instance killed with its questions claimed, then a run of ${targets.length} target(s) on the same rows (${engine})`, () => {
    it('asks them at once and ends within seconds, every row answered', { timeout: 60_000 }, async () => {
      const rows = sampleRows(12);
      const tab = [[...HEADER, ...OUTPUTS], ...rows];
      const options = { rows, header: [...HEADER, ...OUTPUTS], moreTabs: ['Copy 2', 'Copy 3'].map((title) => ({ title, rows: tab })), llm: { latencyMs: 40 }, config: { sheets: FAST_SHEETS, llm: { max_workers: 4 } } };
      let b: Bed;
      if (engine === 'sqlite') {
        sqliteBed = await startBed(options);
        b = sqliteBed;
      } else b = (await instances.postgresBed(options)).bed;
      try {
        b.setConfig({ targets: [{ name: 'first', sheet: TAB }, { name: 'second', sheet: 'Copy 2' }, { name: 'third', sheet: 'Copy 3' }] });
        // Instance 2: its answers never come; it dies with its questions claimed.
        b.llm.setLatency(600_000);
        const dying = instances.spawn(['run', '--config', b.configPath, '--target', 'third'], { env: b.env });
        await waitFor('instance 2 to ask 4 questions', () => b.llm.requests.filter(isChat).length >= 4, 30_000);
        dying.process.kill('SIGKILL');
        expect((await dying.exited).signal).toBe('SIGKILL');
        b.llm.setLatency(40);
        // Instance 1: the other tabs.
        const portfolio = path.join(b.dir, 'portfolio.yaml');
        const sheetOf = { first: TAB, second: 'Copy 2' } as const;
        writeFileSync(portfolio, stringify(deepMerge(b.config, { targets: targets.map((name) => ({ name, sheet: sheetOf[name] })) })));
        const started = Date.now();
        const run = instances.spawn(['run', '--config', portfolio], { env: b.env });
        const end = await exitedWithin(run, 12_000);
        expect(end, `instance 1 waited on a dead run's claims for ${Math.round((Date.now() - started) / 1000)} s and was stopped; its output:\n${run.stderr().slice(-1500)}`).not.toBe('hung');
        expect((end as { code: number | null }).code, run.stderr()).toBe(0);
        for (const title of targets.map((name) => sheetOf[name])) {
          const values = b.sheets.values(SPREADSHEET_ID, title);
          const verdictCol = col(values, 'Validation');
          rows.forEach((row, i) => expect(values[i + 1]?.[verdictCol], `${title} row ${i + 2}`).toBe(expectedCells(row).verdict));
        }
      } finally {
        await sqliteBed?.close();
        sqliteBed = undefined;
      }
    });
  });
}
