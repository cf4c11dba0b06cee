import type { Usage } from './provider.js';

/** Sums of a request's usage: what a question cost over its attempts, and each row's share of a packed one. */

export const zeroUsage = (): Usage => ({ promptTokens: 0, completionTokens: 0, cachedTokens: 0 });

export function addUsage(total: Usage, more: Usage): void {
  total.promptTokens += more.promptTokens;
  total.completionTokens += more.completionTokens;
  total.cachedTokens += more.cachedTokens;
}

/** Each row of a packed request is charged an equal share of it. */
export function splitUsage(usage: Usage, rows: number): Usage {
  const n = Math.max(1, rows);
  return { promptTokens: Math.round(usage.promptTokens / n), completionTokens: Math.round(usage.completionTokens / n), cachedTokens: Math.round(usage.cachedTokens / n) };
}
