import type { BilledTier } from './kinds/index.js';
import type { Usage } from './provider.js';

/** US dollars per million tokens, and the Batch API's discount (0.5 = half price). */
export interface Price {
  input: number;
  cachedInput: number;
  output: number;
  batchDiscount: number;
  /** Priority processing's prices (service_tier priority), where the model has them; unknown: no dollar figure. */
  priority?: { input: number; cachedInput: number; output: number } | undefined;
}

export type PriceTable = Readonly<Record<string, Price>>;

/**
 * List prices of common models (USD per 1M tokens, standard tier), overridable and
 * extendable with `pricing:` in the config. A model with no price gets no dollar
 * figure in the report rather than a wrong one.
 */
export const DEFAULT_PRICES: PriceTable = {
  // Flex is billed as Batch (batchDiscount); priority at the prices of https://openai.com/api-priority-processing/
  // (checked 2026-12-05 for gpt-5, gpt-5-mini, gpt-4.1, -mini, -nano and gpt-4o; a model that page does not
  // list has no priority price here: its priority calls get no dollar figure rather than a guessed one).
  'gpt-5': { input: 1.25, cachedInput: 0.125, output: 10, batchDiscount: 0.5, priority: { input: 2.5, cachedInput: 0.25, output: 20 } },
  'gpt-5-mini': { input: 0.25, cachedInput: 0.025, output: 2, batchDiscount: 0.5, priority: { input: 0.45, cachedInput: 0.045, output: 3.6 } },
  'gpt-5-nano': { input: 0.05, cachedInput: 0.005, output: 0.4, batchDiscount: 0.5 },
  'gpt-4.1': { input: 2, cachedInput: 0.5, output: 8, batchDiscount: 0.5, priority: { input: 3.5, cachedInput: 0.875, output: 14 } },
  'gpt-4.1-mini': { input: 0.4, cachedInput: 0.1, output: 1.6, batchDiscount: 0.5, priority: { input: 0.7, cachedInput: 0.175, output: 2.8 } },
  'gpt-4.1-nano': { input: 0.1, cachedInput: 0.025, output: 0.4, batchDiscount: 0.5, priority: { input: 0.2, cachedInput: 0.05, output: 0.8 } },
  'gpt-4o': { input: 2.5, cachedInput: 1.25, output: 10, batchDiscount: 0.5, priority: { input: 4.25, cachedInput: 2.125, output: 17 } },
  'gpt-4o-mini': { input: 0.15, cachedInput: 0.075, output: 0.6, batchDiscount: 0.5 },
};

/** The config's `pricing:` entries over the defaults. */
export function priceTable(overrides: Readonly<Record<string, { input: number; cached_input?: number | undefined; output: number; batch_discount?: number | undefined }>> = {}): PriceTable {
  const table: Record<string, Price> = { ...DEFAULT_PRICES };
  for (const [model, p] of Object.entries(overrides)) {
    table[model] = { input: p.input, cachedInput: p.cached_input ?? p.input, output: p.output, batchDiscount: p.batch_discount ?? 0.5 };
  }
  return table;
}

/** The price of a model, matching dated snapshots (gpt-5-mini-2025-08-07) to their family. */
export function priceOf(model: string, table: PriceTable = DEFAULT_PRICES): Price | undefined {
  const exact = table[model];
  if (exact) return exact;
  const family = Object.keys(table)
    .filter((name) => model.startsWith(`${name}-`))
    .sort((a, b) => b.length - a.length)[0];
  return family ? table[family] : undefined;
}

/** Dollars for some usage; cached prompt tokens are billed at the cached rate, batch work at a discount. */
export function costOf(usage: Usage, price: Price, batch = false): number {
  const uncached = Math.max(0, usage.promptTokens - usage.cachedTokens);
  const full = (uncached * price.input + usage.cachedTokens * price.cachedInput + usage.completionTokens * price.output) / 1_000_000;
  return batch ? full * (1 - price.batchDiscount) : full;
}

/**
 * Dollars for some usage served at `tier`: flex at Batch prices ("Tokens are priced at Batch
 * API rates", https://platform.openai.com/docs/guides/flex-processing), priority at the
 * model's priority prices, null where those are unknown (no figure rather than a wrong one).
 */
export function tierCostOf(usage: Usage, price: Price, tier: BilledTier): number | null {
  if (tier === 'flex') return costOf(usage, price, true);
  if (tier === 'priority') return price.priority ? costOf(usage, { ...price.priority, batchDiscount: 0 }) : null;
  return costOf(usage, price);
}

/** What one answer would cost the naive way: a full-price call with nothing cached. */
export function naiveCostOf(promptTokens: number, completionTokens: number, price: Price): number {
  return (promptTokens * price.input + completionTokens * price.output) / 1_000_000;
}
