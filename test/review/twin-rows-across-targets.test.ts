/**
 * Review of issue 14, invariant 9 ("a question is never paid for twice") and the
 * pipeline's dedup ("identical keys → one call"): two targets of one config with one
 * rulebook whose tabs hold the same rows give the same cache keys (by design: they share
 * the cache). In one portfolio run each target dedups only its own rows, so each
 * question is asked (and paid) once per target.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HEADER, SPREADSHEET_ID, TAB, col, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

describe('the same question in two targets of one run', () => {
  it('is asked once, and both tabs get its verdict', async () => {
    const rows = sampleRows(3);
    bed = await startBed({ rows, moreTabs: [{ title: 'Team B', rows: [HEADER, ...rows] }], llm: { latencyMs: 150 } });
    bed.setConfig({ targets: [{ name: 'a', sheet: TAB }, { name: 'b', sheet: 'Team B' }] });
    const result = await bed.run();
    expect(result.code).toBe(0);
    for (const tab of [TAB, 'Team B']) {
      const values = bed.sheets.values(SPREADSHEET_ID, tab);
      expect(values.slice(1).every((row) => (row[col(values, 'Validation')] ?? '') !== '')).toBe(true);
    }
    expect(bed.llm.requests.length).toBe(3);
  });

  it('control: the same rows twice in one tab are asked once each', async () => {
    const rows = sampleRows(3);
    bed = await startBed({ rows: [...rows, ...rows.map((r) => [`${r[0] ?? ''}-twin`, ...r.slice(1)])], llm: { latencyMs: 150 } });
    const result = await bed.run();
    expect(result.code).toBe(0);
    expect(bed.llm.requests.length).toBe(3);
  });
});
