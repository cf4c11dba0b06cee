/**
 * Issue 18, item 2: the estimate serve makes before a run (and `estimate` prints) counts
 * each distinct text once and can yield to the event loop, with the figures of counting
 * every text of every request.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { estimateModes, estimateModesYielding, estimateRouted, estimateRoutedYielding, type EstimateInput, type ModeEstimate } from '../../src/estimate/index.js';
import { buildMessages, buildPackedMessages, costOf, naiveCostOf, priceOf, type ChatMessage } from '../../src/llm/index.js';
import type { RowInputs } from '../../src/sheets/index.js';

const RULES = { rulesText: Array.from({ length: 120 }, (_, i) => `Rule ${i + 1}: the comment says what was done and what is next.`).join('\n'), allowedStatuses: ['Planned', 'Done'], maxCommentChars: 2000 };
const row = fc.record({ status: fc.string({ maxLength: 12 }), comment: fc.string({ maxLength: 80 }), completion_date: fc.string({ maxLength: 10 }) });
/** A tokenizer stand-in: deterministic, and not linear in the length (so a wrong sum shows). */
const words = (text: string) => text.split(/\s+/).filter(Boolean).length + Math.ceil(text.length / 7);

/** The figures by definition: every request's every message counted, nothing remembered. */
function byDefinition(input: EstimateInput): ModeEstimate[] {
  const { questions, rules, today, count, completionPerRow, packSize, price } = input;
  const tokens = (m: ChatMessage[]) => m.reduce((n, x) => n + 4 + count(x.content), 3);
  const single = questions.map((q) => buildMessages(q, rules, today));
  const packed: ChatMessage[][] = [];
  for (let i = 0; i < questions.length; i += packSize) packed.push(buildPackedMessages(questions.slice(i, i + packSize).map((inputs, j) => ({ label: `r${j + 1}`, inputs })), rules, today));
  const completionTokens = questions.length * completionPerRow;
  const mode = (name: string, requests: ChatMessage[][], batch: boolean): ModeEstimate => {
    const prefix = requests[0]?.[0] ? count(requests[0][0].content) : 0;
    const promptTokens = requests.reduce((n, m) => n + tokens(m), 0);
    const cachedTokens = batch ? 0 : Math.max(0, requests.length - 1) * (prefix >= 1024 ? Math.floor(prefix / 128) * 128 : 0);
    return { mode: name, requests: requests.length, promptTokens, cachedTokens, completionTokens, costUsd: price ? costOf({ promptTokens, cachedTokens, completionTokens }, price, batch) : null };
  };
  const naive = single.reduce((n, m) => n + tokens(m), 0);
  return [
    { mode: 'naive (one full-price call per row)', requests: questions.length, promptTokens: naive, cachedTokens: 0, completionTokens, costUsd: price ? naiveCostOf(naive, completionTokens, price) : null },
    mode('sync (prompt caching)', single, false),
    mode(`packed (${packSize} rows per request)`, packed, false),
    mode('batch (Batch API)', single, true),
    mode(`batch + packed (${packSize} rows per request)`, packed, true),
  ];
}

const inputOf = (questions: RowInputs[], packSize: number, count = words): EstimateInput => ({ questions, rules: RULES, today: '2026-02-01', count, completionPerRow: 120, packSize, price: priceOf('gpt-5-mini') });

describe('the estimate', () => {
  it('gives the figures of counting every message of every request, at once or in steps', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(row, { maxLength: 600 }), fc.integer({ min: 1, max: 12 }), async (questions, packSize) => {
        const expected = byDefinition(inputOf(questions, packSize));
        if (questions.length > 1) expect(expected[1]?.cachedTokens).toBeGreaterThan(0);
        expect(estimateModes(inputOf(questions, packSize))).toEqual(expected);
        expect(await estimateModesYielding(inputOf(questions, packSize))).toEqual(expected);
      }),
      { numRuns: 60 },
    );
  });

  it('tokenizes the static system prompt once per estimate, not once per row and mode', () => {
    const questions = Array.from({ length: 2000 }, (_, i) => ({ status: 'Done', comment: `Row ${i} shipped; next: review by Friday.`, completion_date: '2026-03-01' }));
    const counted = new Map<string, number>();
    estimateModes(inputOf(questions, 5, (text) => (counted.set(text, (counted.get(text) ?? 0) + 1), words(text))));
    expect(Math.max(...counted.values())).toBe(1);
    // The row messages once each, the packed requests once each, two system prompts (single and packed).
    expect(counted.size).toBeLessThanOrEqual(2000 + 400 + 2);
  });

  it('lets the event loop run while it estimates many rows', async () => {
    const questions = Array.from({ length: 5000 }, (_, i) => ({ status: 'Done', comment: `Row ${i}`, completion_date: '' }));
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    // A slow tokenizer: ~0.1 ms a text, so the whole estimate takes about a second.
    const slow = (text: string) => {
      const until = performance.now() + 0.1;
      while (performance.now() < until);
      return words(text);
    };
    let gap = 0;
    let last = performance.now();
    const watch = setInterval(() => ((gap = Math.max(gap, performance.now() - last)), (last = performance.now())), 1);
    await estimateModesYielding(inputOf(questions, 5, slow)).finally(() => (clearInterval(timer), clearInterval(watch)));
    expect(ticks).toBeGreaterThan(3);
    expect(gap).toBeLessThan(250);
  });

  it('with llm.routing prices each row at the model it is routed to: the sum of the per-model estimates, unknown when a model has no price', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(row, { maxLength: 120 }), fc.integer({ min: 1, max: 8 }), fc.boolean(), async (questions, packSize, unpriced) => {
        // Routed by a property of the row, as llm.routing routes by its complexity.
        const modelOf = (q: RowInputs) => ((q.comment ?? '').length % 2 === 0 ? 'gpt-5' : 'gpt-5-nano');
        const priceFor = (model: string) => (unpriced && model === 'gpt-5' ? undefined : priceOf(model));
        const { price: _price, ...input } = inputOf(questions, packSize);
        const routed = estimateRouted(input, { modelOf, priceOf: priceFor });
        expect(await estimateRoutedYielding(input, { modelOf, priceOf: priceFor })).toEqual(routed);
        const parts = ['gpt-5', 'gpt-5-nano']
          .map((model) => ({ model, questions: questions.filter((q) => modelOf(q) === model) }))
          .filter((p) => p.questions.length > 0)
          .map((p) => estimateModes({ ...inputOf(p.questions, packSize), price: priceFor(p.model) }));
        routed.forEach((mode, i) => {
          expect(mode.requests).toBe(parts.reduce((n, p) => n + (p[i]?.requests ?? 0), 0));
          expect(mode.promptTokens).toBe(parts.reduce((n, p) => n + (p[i]?.promptTokens ?? 0), 0));
          const costs = parts.map((p) => p[i]?.costUsd ?? null);
          // No row to ask costs nothing, whatever the prices.
          if (parts.length === 0) expect(mode.costUsd).toBe(0);
          else if (costs.includes(null)) expect(mode.costUsd).toBeNull();
          else expect(mode.costUsd).toBeCloseTo(costs.reduce<number>((a, b) => a + (b ?? 0), 0), 12);
        });
        // Every row routed to one model: the plain estimate at that model's price.
        expect(estimateRouted(input, { modelOf: () => 'gpt-5', priceOf })).toEqual(estimateModes({ ...input, price: priceOf('gpt-5') }));
      }),
      { numRuns: 40 },
    );
  });

  it('yields by the clock, not by a count of rows: rows of long cells do not block the loop', async () => {
    const long = 'word '.repeat(800);
    const questions = Array.from({ length: 60 }, () => ({ status: 'Done', comment: long, completion_date: '' }));
    // ~5 ms a text: 60 rows and 12 packed requests are ~0.4 s, which a count of 250 rows would never break.
    const slow = (text: string) => {
      const until = performance.now() + 5;
      while (performance.now() < until);
      return words(text);
    };
    let gap = 0;
    let last = performance.now();
    const watch = setInterval(() => ((gap = Math.max(gap, performance.now() - last)), (last = performance.now())), 1);
    await estimateModesYielding(inputOf(questions, 5, slow)).finally(() => clearInterval(watch));
    expect(gap).toBeLessThan(100);
  });
});
