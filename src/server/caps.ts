import type { Config } from '../config/index.js';
import type { ConfigProblem } from '../errors.js';
import { priceOf, priceTable } from '../llm/index.js';
import { primaryModel } from '../pipeline/index.js';

/**
 * A cost cap that could never be checked: `serve.max_cost_usd` set while a target's
 * model has no known price. Found when `serve` starts and by `check-config`, so that the
 * operator hears of it, not each reviewer in the sheet (whose every request would be
 * refused). No cap set, no problem: an unpriced self-hosted model runs uncapped.
 */
export function serveCapProblems(targets: readonly Config[]): ConfigProblem[] {
  const cap = targets[0]?.serve.max_cost_usd;
  if (cap === undefined) return [];
  const unpriced = new Map<string, string[]>();
  for (const t of targets) {
    const model = primaryModel(t);
    if (priceOf(model, priceTable(t.pricing)) === undefined) unpriced.set(model, [...(unpriced.get(model) ?? []), t.target.name]);
  }
  return [...unpriced].map(([model, names]) => ({
    path: 'serve.max_cost_usd',
    message: `is set ($${cap} a run) but the model "${model}"${targets.length > 1 ? ` (target ${names.join(', ')})` : ''} has no known price, so no run could be checked against it: add its price under pricing (pricing: { "${model}": { input: …, output: … }, US dollars per million tokens), or remove serve.max_cost_usd to run without a cost cap`,
  }));
}
