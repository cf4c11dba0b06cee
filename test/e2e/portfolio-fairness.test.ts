/** Issue 14: the targets of a portfolio share the provider fairly, and within its limits together. */
import { afterEach, describe, expect, it } from 'vitest';
import { HEADER, TAB, col, startBed, type Bed } from '../support/bed.js';
import type { OpenAIEmulatorOptions } from '../support/openai-emulator/index.js';
import { sampleRows } from '../support/sample-data.js';

const BOOK = 'sheet-e2e-2';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

/**
 * Three big targets (two tabs of the bed's spreadsheet and one of a second) and a small
 * one listed last, in the second spreadsheet. Rows are distinct across targets.
 */
async function portfolio(big: number, small: number, llm: OpenAIEmulatorOptions, maxWorkers: number): Promise<{ bed: Bed; smallRows: string[][] }> {
  const all = sampleRows(3 * big + small);
  const part = (i: number) => all.slice(i * big, (i + 1) * big);
  const smallRows = all.slice(3 * big);
  // Quotas out of the way: the provider is what the targets share here.
  const config = { llm: { max_workers: maxWorkers }, sheets: { read_quota_per_minute: 100_000, write_quota_per_minute: 100_000 } };
  const b = await startBed({ rows: part(0), moreTabs: [{ title: 'Big 2', rows: [HEADER, ...part(1)] }], llm, config });
  b.sheets.addSpreadsheet(BOOK, [
    { title: 'Big 3', rows: [HEADER, ...part(2)] },
    { title: 'Small', rows: [HEADER, ...smallRows] },
  ]);
  b.setConfig({
    targets: [
      { name: 'big-1', sheet: TAB },
      { name: 'big-2', sheet: 'Big 2' },
      { name: 'big-3', spreadsheet_id: BOOK, sheet: 'Big 3' },
      { name: 'small', spreadsheet_id: BOOK, sheet: 'Small' },
    ],
  });
  return { bed: b, smallRows };
}

describe('the targets of a portfolio share the provider', () => {
  it('fairly: a 6-row target listed last has every verdict in its tab before half of the 60-row targets\' rows are answered', async () => {
    // 3,000 a minute metered per second (50 a second): the provider is what every target waits for.
    // Each big target queues all of its rows at once (max_workers ≥ its rows): first come,
    // first served would answer the small target's rows last.
    const { bed: b, smallRows } = await portfolio(60, 6, { latencyMs: { mean: 20, jitter: 5 }, rateLimit: { rpm: 3000, windowMs: 1000 } }, 60);
    bed = b;
    // The small tab opens last (its read answered 300 ms late): every big target's rows are queued before its own.
    let late = true;
    b.sheets.onRequest(async (call) => {
      if (late && call.op === 'values.get' && /^'?Small'?!?/.test(call.range ?? '')) {
        late = false;
        await new Promise((r) => setTimeout(r, 300));
      }
    });
    const result = await b.run('--json');
    expect(result.code).toBe(0);

    const values = b.sheets.values(BOOK, 'Small');
    const verdict = col(values, 'Validation');
    expect(values).toHaveLength(smallRows.length + 1);
    for (const row of values.slice(1)) expect(row[verdict]).toMatch(/^(VALID|INVALID)$/);
    const smallWrites = b.sheets.calls.filter((c) => c.kind === 'write' && c.status === 200 && c.spreadsheetId === BOOK && (c.ranges ?? []).some((r) => /^'?Small'?!/.test(r)));
    // The output headers, then the verdicts.
    expect(smallWrites.length).toBeGreaterThanOrEqual(2);
    const landed = Math.max(...smallWrites.map((c) => c.at));

    const refs = new Set(smallRows.map(([id]) => `(ref ${id})`));
    const isSmall = (comment: string | undefined) => [...refs].some((ref) => comment?.endsWith(ref));
    const answered = b.llm.requests.filter((r) => r.path === '/v1/chat/completions' && r.status === 200);
    const bigAnswered = answered.filter((r) => !isSmall(r.row?.comment));
    expect(answered.length - bigAnswered.length).toBe(6);
    expect(bigAnswered).toHaveLength(180);
    const bigBefore = bigAnswered.filter((r) => (r.endedAt ?? Infinity) <= landed).length;
    expect(bigBefore).toBeLessThan(90);
  });

  it('within one concurrency limit: at most llm.max_workers requests are out at once across all targets', async () => {
    // No rate limit: a slow model, and 4 targets each draining with max_workers workers of its own.
    const { bed: b } = await portfolio(30, 10, { latencyMs: { mean: 100, jitter: 20 } }, 8);
    bed = b;
    const result = await b.run('--json');
    expect(result.code).toBe(0);
    expect(b.llm.requests.filter((r) => r.status === 200)).toHaveLength(100);
    expect(b.llm.peakInFlight).toBeLessThanOrEqual(8);
    // The limit is used, not only kept: after the probe, the 32 workers' requests go out up to 8 at a time.
    expect(b.llm.peakInFlight).toBeGreaterThan(4);
  });
});
