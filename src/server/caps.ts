import type { Config } from '../config/index.js';
import type { ConfigProblem } from '../errors.js';
import { priceOf, priceTable } from '../llm/index.js';
import { primaryModel } from '../pipeline/index.js';
import { plural } from '../plural.js';
import type { RunPlan } from './plan.js';

/** The models a target's rows are asked of first: with llm.routing its small and large ones, else the first provider's. */
export function askedModels(config: Config): string[] {
  const routing = config.llm.routing;
  return routing ? [...new Set([routing.small, routing.large])] : [primaryModel(config)];
}

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
    for (const model of askedModels(t)) {
      if (priceOf(model, priceTable(t.pricing)) === undefined) unpriced.set(model, [...(unpriced.get(model) ?? []), t.target.name]);
    }
  }
  return [...unpriced].map(([model, names]) => ({
    path: 'serve.max_cost_usd',
    // With llm.routing the routed models are the ones priced (a run never asks the first provider's own model).
    message: `is set ($${cap} a run) but the model "${model}"${targets.length > 1 ? ` (target ${names.join(', ')})` : ''} has no known price, so no run could be checked against it: add its price under pricing (pricing: { "${model}": { input: …, output: … }, US dollars per million tokens), or remove serve.max_cost_usd to run without a cost cap`,
  }));
}

/** The per-person caps on a run: rows, then cost by the estimate; undefined when within both. */
export function overCaps(serve: Config['serve'], plan: RunPlan): Record<string, unknown> | undefined {
  if (plan.rows > serve.max_rows) return { error: `this run would recheck ${plural(plan.rows, 'row')}; at most ${serve.max_rows} (serve.max_rows): select fewer rows`, rows: plan.rows, maxRows: serve.max_rows };
  // No cap set: nothing to refuse (an unpriced self-hosted model is fine). A cap set for
  // a model without a price stops `serve` at start (serveCapProblems); this is the guard.
  const cap = serve.max_cost_usd;
  if (cap === undefined) return undefined;
  if (plan.estimatedUsd === null && plan.rows > 0) return { error: "the model has no known price, so serve.max_cost_usd cannot be checked: ask the bot's operator to set its price under pricing in the config", rows: plan.rows, maxCostUsd: cap };
  if (plan.estimatedUsd !== null && plan.estimatedUsd > cap) {
    return { error: `this run would cost about $${plan.estimatedUsd.toFixed(4)}; at most $${cap} (serve.max_cost_usd): select fewer rows`, estimatedUsd: plan.estimatedUsd, maxCostUsd: cap };
  }
  return undefined;
}
