import { describe, expect, it } from 'vitest';
import { outputCapOf, packingNote, packingOf } from '../../src/llm/output-cap.js';

const llm = (rows: number, tokens: number, providers: Array<{ model: string; max_output_tokens?: number }>, routing?: { small: string; large: string }) => ({
  rows_per_request: rows,
  max_completion_tokens: tokens,
  providers,
  routing,
});

describe('outputCapOf', () => {
  it('knows the built-in models and their dated snapshots, and prefers the configured figure', () => {
    expect(outputCapOf('gpt-5-mini')).toBe(128_000);
    expect(outputCapOf('gpt-4.1-nano-2025-04-14')).toBe(32_768);
    expect(outputCapOf('gpt-4o-mini-2024-07-18')).toBe(16_384);
    expect(outputCapOf('acme-large')).toBeUndefined();
    expect(outputCapOf('gpt-4o', 4096)).toBe(4096);
  });
});

describe('packingOf', () => {
  it('keeps rows_per_request when the answer fits, and says nothing', () => {
    const packing = packingOf(llm(10, 1000, [{ model: 'gpt-5-mini' }]));
    expect(packing).toEqual({ requested: 10, rows: 10 });
    expect(packingNote(packing, 1000)).toBeUndefined();
  });

  it('takes the tightest cap of every model a packed request may go to, fallbacks and routed models included', () => {
    expect(packingOf(llm(50, 1000, [{ model: 'gpt-5-mini' }, { model: 'gpt-4.1' }, { model: 'gpt-4o' }]))).toEqual({ requested: 50, rows: 16, cappedBy: { model: 'gpt-4o', cap: 16_384 } });
    expect(packingOf(llm(50, 1000, [{ model: 'x' }], { small: 'gpt-4o-mini', large: 'gpt-5' })).cappedBy).toEqual({ model: 'gpt-4o-mini', cap: 16_384 });
  });

  it('packs one row when one answer alone fills the cap, and says max_completion_tokens is above it', () => {
    const packing = packingOf(llm(1, 20_000, [{ model: 'gpt-4o' }]));
    expect(packing.rows).toBe(1);
    expect(packingNote(packing, 20_000)).toMatch(/max_completion_tokens \(20000\) is above gpt-4o's output cap/);
  });

  it('leaves models with no known cap alone', () => {
    expect(packingOf(llm(50, 1000, [{ model: 'acme' }]))).toEqual({ requested: 50, rows: 50 });
  });
});
