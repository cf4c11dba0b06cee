import { afterEach, describe, expect, it } from 'vitest';
import { SPREADSHEET_ID, TAB, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

const RESULTS = { output: { sheet: 'Review' } };

function results(b: Bed): string[][] {
  return b.sheets.values(SPREADSHEET_ID, 'Review');
}

describe('results-tab mode', () => {
  it('writes one row per data row into its own tab, with a link to the data row, and leaves the data tab alone', async () => {
    bed = await startBed({ rows: sampleRows(5), config: RESULTS });
    const result = await bed.run();
    expect(result.code).toBe(0);
    expect(bed.values()[0]).toEqual(['Project', 'Status', 'Comment', 'Due date']);
    const tab = results(bed);
    expect(tab[0]).toEqual(['Project', 'Source row', 'Validation', 'Issues', 'Suggested rewrite', 'Checked at', 'Model']);
    expect(tab).toHaveLength(6);
    const gid = bed.sheets.sheetId(SPREADSHEET_ID, TAB);
    const byId = new Map(tab.slice(1).map((r) => [r[0], r]));
    for (const [i, row] of sampleRows(5).entries()) {
      const line = byId.get(row[0]);
      expect(line?.[1]).toBe(`https://docs.google.com/spreadsheets/d/${SPREADSHEET_ID}/edit#gid=${gid}&range=${i + 2}:${i + 2}`);
      expect(line?.[4]).toBe(`Rewrite: ${row[2]}`);
    }
  });

  it('costs nothing on a second run and upserts by id after an edit, never duplicating a row', async () => {
    bed = await startBed({ rows: sampleRows(4), config: RESULTS });
    await bed.run();
    const calls = bed.llm.callCount();
    const writes = bed.sheets.writeCount();
    await bed.run();
    expect(bed.llm.callCount()).toBe(calls);
    expect(bed.sheets.writeCount()).toBe(writes);

    bed.sheets.setCell(SPREADSHEET_ID, TAB, 3, 3, 'Edited: finished the rollout, next the retro on Friday.');
    await bed.run();
    expect(bed.llm.callCount()).toBe(calls + 1);
    const tab = results(bed);
    expect(tab).toHaveLength(5);
    expect(tab.filter((r) => r[0] === 'PRJ-0002')).toEqual([expect.arrayContaining(['Rewrite: Edited: finished the rollout, next the retro on Friday.'])]);
  });

  it('finds its rows by id after a person sorts the results tab', async () => {
    bed = await startBed({ rows: sampleRows(4), config: RESULTS });
    await bed.run();
    bed.sheets.sortRows(SPREADSHEET_ID, 'Review', 2, (a, b) => String(b[0]).localeCompare(String(a[0])));
    bed.sheets.setCell(SPREADSHEET_ID, TAB, 2, 3, 'Edited again: shipped, next the audit by the end of the month.');
    await bed.run();
    const tab = results(bed);
    expect(tab).toHaveLength(5);
    expect(tab.map((r) => r[0])).toEqual(['Project', 'PRJ-0004', 'PRJ-0003', 'PRJ-0002', 'PRJ-0001']);
    expect(tab[4]?.[4]).toBe('Rewrite: Edited again: shipped, next the audit by the end of the month.');
  });

  it('does not duplicate rows when a write is retried after a failure', async () => {
    bed = await startBed({ rows: sampleRows(3), config: RESULTS });
    bed.sheets.injectFault({ status: 503 }, { kind: 'write', times: 1, match: (c) => c.op === 'values.batchUpdate' && JSON.stringify(c.body ?? '').includes('Review') });
    expect((await bed.run()).code).toBe(0);
    expect(results(bed)).toHaveLength(4);
  });

  it('needs an id column, and says so', async () => {
    bed = await startBed({ rows: sampleRows(1), config: { ...RESULTS, columns: { id: undefined } } });
    const result = await bed.run();
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('output.sheet: a results tab needs columns.id');
  });

  it('lets watch poll both tabs in one read and stay quiet when nothing changed', async () => {
    bed = await startBed({ rows: sampleRows(3), config: RESULTS });
    await bed.run();
    const reads = bed.sheets.readCount();
    const calls = bed.llm.callCount();
    const clock = { now: () => new Date(), sleep: () => Promise.resolve() };
    const result = await bed.cli(['watch', '--config', bed.configPath, '--every', '5s', '--polls', '3'], { clock });
    expect(result.code).toBe(0);
    // One read per quiet poll; the first also reads the list of tabs, once, for the data
    // tab's gid (which tells its lines from another target's in a shared results tab).
    expect(bed.sheets.readCount() - reads).toBe(1 + 3);
    expect(bed.llm.callCount()).toBe(calls);
  });
});
