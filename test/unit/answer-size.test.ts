import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sizesOf as read, sizesText as write } from '../../src/cache/answer-sizes.js';
import { AnswerSizes, LEARN_AFTER, MARGIN, SLACK_TOKENS, WINDOW, percentile } from '../../src/llm/answer-size.js';
import { AnswerReserve, SAVE_EVERY, type AnswerSizeMemory, type AnswerSizesOf } from '../../src/llm/reserve.js';

const sizesOf = (values: readonly number[]): AnswerSizes => AnswerSizes.of(values);
/** Anything a provider's usage may carry where completion_tokens should be. */
const anyUsage = fc.oneof(fc.integer({ min: -1000, max: 200_000 }), fc.double(), fc.constantFrom(Number.NaN, Infinity, -Infinity, 1e300, -0), fc.string(), fc.constant(null), fc.constant(undefined), fc.object());

describe('percentile', () => {
  it('is the nearest rank: the smallest value with at least p of the list at or below it', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(hundred, 0.99)).toBe(99);
    expect(percentile(hundred, 1)).toBe(100);
    expect(percentile(hundred, 0.5)).toBe(50);
    expect(percentile([7], 0.99)).toBe(7);
    expect(percentile([3, 1, 2], 0.01)).toBe(1);
  });

  it('refuses an empty list and a p outside (0, 1], naming what it got', () => {
    expect(() => percentile([], 0.5)).toThrow(/empty/);
    expect(() => percentile([1], 0)).toThrow(/p must be in \(0, 1\], got 0/);
    expect(() => percentile([1], 1.5)).toThrow(/got 1.5/);
  });
});

describe('AnswerSizes', () => {
  it('reserves the full cap until enough answers are seen, then the high percentile with its margin', () => {
    const sizes = new AnswerSizes();
    for (let i = 0; i < LEARN_AFTER - 1; i++) sizes.observe(150);
    expect(sizes.reserve(1000)).toBe(1000);
    sizes.observe(150);
    expect(sizes.reserve(1000)).toBe(Math.ceil(150 * MARGIN) + SLACK_TOKENS);
  });

  it('never reserves above the cap, even when the answers were larger', () => {
    expect(sizesOf(Array.from({ length: 50 }, () => 5000)).reserve(1000)).toBe(1000);
  });

  it('keeps only the last answers: a model whose answers grow is followed', () => {
    const sizes = sizesOf(Array.from({ length: WINDOW }, () => 100));
    for (let i = 0; i < WINDOW; i++) sizes.observe(400);
    expect(sizes.count).toBe(WINDOW);
    expect(sizes.reserve(1000)).toBe(Math.ceil(400 * MARGIN) + SLACK_TOKENS);
  });

  it('moves up once more than 1 % of the answers held are above the reserve (one in a hundred is the share it lets be asked again)', () => {
    const sizes = sizesOf(Array.from({ length: WINDOW }, () => 150));
    const before = sizes.reserve(1000);
    for (let i = 0; i < 2; i++) {
      sizes.observe(900);
      expect(sizes.reserve(1000)).toBe(before);
    }
    sizes.observe(900);
    expect(sizes.reserve(1000)).toBe(Math.min(1000, Math.ceil(900 * MARGIN) + SLACK_TOKENS));
  });

  it('refuses a cap below 1 or not a number', () => {
    expect(() => new AnswerSizes().reserve(0)).toThrow(/cap must be a number ≥ 1, got 0/);
    expect(() => new AnswerSizes().reserve(Number.NaN)).toThrow(/got NaN/);
  });

  it('never throws on any usage and always reserves between 1 and the cap', () => {
    fc.assert(
      fc.property(fc.array(anyUsage, { maxLength: 400 }), fc.integer({ min: 1, max: 200_000 }), (usages, cap) => {
        const sizes = new AnswerSizes();
        for (const usage of usages) sizes.observe(usage);
        const reserve = sizes.reserve(cap);
        expect(reserve).toBeGreaterThanOrEqual(1);
        expect(reserve).toBeLessThanOrEqual(cap);
        expect(Number.isInteger(reserve)).toBe(true);
        // What the store keeps reads back the same.
        expect(AnswerSizes.of(sizes.samples()).reserve(cap)).toBe(reserve);
      }),
    );
  });

  it('is monotone in the upper tail: answers as large or larger never reserve less', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: 5000 })), { minLength: 0, maxLength: 300 }),
        fc.integer({ min: 1, max: 10_000 }),
        (pairs, cap) => {
          const low = new AnswerSizes();
          const high = new AnswerSizes();
          for (const [size, extra] of pairs) {
            low.observe(size);
            high.observe(size + extra);
          }
          expect(high.reserve(cap)).toBeGreaterThanOrEqual(low.reserve(cap));
        },
      ),
    );
  });
});

/** A memory in a Map (the store's own are tested by the contract suite). */
function mapMemory(): AnswerSizeMemory & { kept: Map<string, number[]>; saves: number } {
  const kept = new Map<string, number[]>();
  const memory = {
    kept,
    saves: 0,
    recall: (of: AnswerSizesOf) => Promise.resolve([...(kept.get(of.prompt) ?? [])]),
    learn: (of: AnswerSizesOf, sizes: readonly number[]) => {
      memory.saves++;
      kept.set(of.prompt, [...sizes]);
      return Promise.resolve();
    },
  };
  return memory;
}

const OF: AnswerSizesOf = { provider: 'http://127.0.0.1/v1', model: 'gpt-5-mini', prompt: 'p/rows-1' };

describe('AnswerReserve', () => {
  it('starts from what the memory kept, and keeps what it learned on flush', async () => {
    const memory = mapMemory();
    memory.kept.set(OF.prompt, Array.from({ length: 40 }, () => 120));
    const reserve = new AnswerReserve({ enabled: true, memory });
    expect(await reserve.reserve(OF, 1000)).toBe(Math.ceil(120 * MARGIN) + SLACK_TOKENS);
    reserve.observe(OF, 300);
    await reserve.flush();
    expect(memory.kept.get(OF.prompt)?.at(-1)).toBe(300);
    expect(memory.saves).toBe(1);
  });

  it('saves every SAVE_EVERY answers, not each one', async () => {
    const memory = mapMemory();
    const reserve = new AnswerReserve({ enabled: true, memory });
    for (let i = 0; i < SAVE_EVERY * 2 + 3; i++) reserve.observe(OF, 100);
    await reserve.flush();
    expect(memory.saves).toBe(3);
    expect(memory.kept.get(OF.prompt)).toHaveLength(SAVE_EVERY * 2 + 3);
  });

  it('turned off, reserves the cap and learns nothing', async () => {
    const memory = mapMemory();
    memory.kept.set(OF.prompt, Array.from({ length: 40 }, () => 120));
    const reserve = new AnswerReserve({ enabled: false, memory });
    expect(await reserve.reserve(OF, 1000)).toBe(1000);
    reserve.observe(OF, 100);
    await reserve.flush();
    expect(memory.saves).toBe(0);
  });

  it('a memory that fails costs a warning naming the model and what happens, never a request', async () => {
    const warnings: string[] = [];
    const broken: AnswerSizeMemory = { recall: () => Promise.reject(new Error('disk I/O error')), learn: () => Promise.reject(new Error('database is locked')) };
    const reserve = new AnswerReserve({ enabled: true, memory: broken, onWarning: (text) => warnings.push(text) });
    expect(await reserve.reserve(OF, 1000)).toBe(1000);
    reserve.observe(OF, 100, true);
    await reserve.flush();
    expect(warnings).toEqual([
      expect.stringMatching(/could not read the answer sizes of model gpt-5-mini .*max_completion_tokens until 20 answers.*disk I\/O error/),
      expect.stringMatching(/could not save the answer sizes of model gpt-5-mini .*next run learns them again.*database is locked/),
    ]);
  });
});

describe('the stored text of answer sizes', () => {
  it('never throws on any text, reads only whole sizes ≥ 0, and reads back what was written', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.constant(null), fc.constant(undefined)), (text) => {
        const sizes = read(text);
        expect(sizes.every((n) => Number.isSafeInteger(n) && n >= 0)).toBe(true);
        expect(read(write(sizes))).toEqual(sizes);
      }),
    );
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer({ min: -5, max: 100_000 }), fc.double())), (sizes) => {
        expect(read(write(sizes))).toEqual(sizes.filter((n) => Number.isSafeInteger(n) && n >= 0).map((n) => n + 0));
      }),
    );
  });
});
