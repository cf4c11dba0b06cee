/**
 * "saved N %" compares like with like: the naive price of the rows this run handled, not
 * of every row of the sheet (a --limit or an interrupted run leaves rows for later).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HEADER, TAB, startBed, type Bed } from '../support/bed.js';
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

describe('a target whose questions another target of the run asked', () => {
  it('prices its naive baseline at what those answers cost, not at nothing: its savings are that whole price, and the cache\'s averages stay those of the answers', async () => {
    const rows = sampleRows(6);
    // Two tabs with the same rows, asked at once: the second target is handed the first's answers in flight (the QuestionBoard).
    const bed = await startBed({ rows, moreTabs: [{ title: 'Copy', rows: [HEADER, ...rows] }], llm: { latencyMs: 150 } });
    beds.push(bed);
    bed.setConfig({ targets: [{ name: 'first', sheet: TAB }, { name: 'copy', sheet: 'Copy' }] });
    type Llm = { calls: number; naiveCostUsd: number; costUsd: number; savedUsd: number };
    const result = await bed.run('--json');
    expect(result.code, result.stderr).toBe(0);
    expect(bed.llm.callCount()).toBe(6);
    const [first, copy] = (JSON.parse(result.stdout) as { targets: Array<{ llm: Llm }> }).targets.map((t) => t.llm);
    expect(first?.calls).toBe(6);
    expect(copy?.calls).toBe(0);
    expect(first?.naiveCostUsd).toBeGreaterThan(0);
    expect(copy?.costUsd).toBe(0);
    // The same rows, the same answers: the same naive price, all of it saved.
    expect(copy?.naiveCostUsd).toBeCloseTo(first?.naiveCostUsd ?? NaN, 9);
    expect(copy?.savedUsd).toBeCloseTo(copy?.naiveCostUsd ?? NaN, 9);
    // A rerun asks nothing: its baseline comes from the cache's averages, which the copy's rows must not have pulled down.
    const again = await bed.run('--json', '--target', 'first');
    expect(again.code, again.stderr).toBe(0);
    expect(bed.llm.callCount()).toBe(6);
    expect((JSON.parse(again.stdout) as { targets: Array<{ llm: Llm }> }).targets[0]?.llm.naiveCostUsd).toBeCloseTo(first?.naiveCostUsd ?? NaN, 9);
  });
});
