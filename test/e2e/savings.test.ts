/**
 * "saved N %" compares like with like: the naive price of the rows this run handled, not
 * of every row of the sheet (a --limit or an interrupted run leaves rows for later).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

const beds: Bed[] = [];
afterEach(async () => {
  await Promise.all(beds.splice(0).map((b) => b.close()));
});

async function summaryOf(rows: number, ...extra: string[]): Promise<{ naiveCostUsd: number; costUsd: number; savedUsd: number; deferred: number }> {
  const bed = await startBed({ rows: sampleRows(rows), llm: { latencyMs: 1 } });
  beds.push(bed);
  const result = await bed.run('--json', ...extra);
  expect(result.code, result.stderr).toBe(0);
  const summary = JSON.parse(result.stdout) as { llm: { naiveCostUsd: number; costUsd: number; savedUsd: number }; rows: { deferred: number } };
  return { ...summary.llm, deferred: summary.rows.deferred };
}

describe('the naive baseline of the savings', () => {
  it('prices only the rows this run handled: a run limited to 3 of 10 rows has the baseline of a 3-row sheet', async () => {
    const limited = await summaryOf(10, '--limit', '3');
    const small = await summaryOf(3);
    expect(limited.deferred).toBe(7);
    expect(limited.naiveCostUsd).toBeGreaterThan(0);
    expect(limited.naiveCostUsd).toBeCloseTo(small.naiveCostUsd, 9);
    expect(limited.savedUsd).toBeCloseTo(small.savedUsd, 9);
  });
});
