import type { Usage } from './provider.js';

/** US dollars per million tokens. */
export interface Price {
  input: number;
  cachedInput: number;
  output: number;
}

/**
 * List prices of common models (USD per 1M tokens, standard tier). A model not listed
 * here has no known price: the report then shows tokens but no dollar figure rather
 * than a wrong one.
 */
const PRICES: Readonly<Record<string, Price>> = {
  'gpt-5': { input: 1.25, cachedInput: 0.125, output: 10 },
  'gpt-5-mini': { input: 0.25, cachedInput: 0.025, output: 2 },
  'gpt-5-nano': { input: 0.05, cachedInput: 0.005, output: 0.4 },
  'gpt-4.1': { input: 2, cachedInput: 0.5, output: 8 },
  'gpt-4.1-mini': { input: 0.4, cachedInput: 0.1, output: 1.6 },
  'gpt-4.1-nano': { input: 0.1, cachedInput: 0.025, output: 0.4 },
  'gpt-4o': { input: 2.5, cachedInput: 1.25, output: 10 },
  'gpt-4o-mini': { input: 0.15, cachedInput: 0.075, output: 0.6 },
};

/** The price of a model, matching dated snapshots (gpt-5-mini-2025-08-07) to their family. */
export function priceOf(model: string): Price | undefined {
  const exact = PRICES[model];
  if (exact) return exact;
  const family = Object.keys(PRICES)
    .filter((name) => model.startsWith(`${name}-`))
    .sort((a, b) => b.length - a.length)[0];
  return family ? PRICES[family] : undefined;
}

/** Dollars for some usage; cached prompt tokens are billed at the cached rate. */
export function costOf(usage: Usage, price: Price): number {
  const uncached = Math.max(0, usage.promptTokens - usage.cachedTokens);
  return (uncached * price.input + usage.cachedTokens * price.cachedInput + usage.completionTokens * price.output) / 1_000_000;
}
