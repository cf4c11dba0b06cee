/**
 * Review of issue 14 against the README's contract: "`--limit N` asks the model about at
 * most N rows this run; the rest wait for the next run". A portfolio run passes the limit
 * to every target's run, so it asks N rows per target (N × targets in all): the flag
 * people use to cap a trial run's cost no longer caps it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HEADER, TAB, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

describe('run --limit over a portfolio', () => {
  it('asks the model about at most N rows in the whole run', async () => {
    const rows = sampleRows(9);
    bed = await startBed({ rows: rows.slice(0, 3), moreTabs: [{ title: 'B', rows: [HEADER, ...rows.slice(3, 6)] }, { title: 'C', rows: [HEADER, ...rows.slice(6)] }] });
    bed.setConfig({ targets: [{ name: 'a', sheet: TAB }, { name: 'b', sheet: 'B' }, { name: 'c', sheet: 'C' }] });
    const result = await bed.run('--limit', '2', '--json');
    expect(result.code, result.stderr).toBe(0);
    expect(bed.llm.callCount()).toBeLessThanOrEqual(2);
  });
});
