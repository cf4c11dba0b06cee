import type { Store } from '../cache/index.js';
import type { ServerResponse } from 'node:http';
import type { Config, Secrets } from '../config/index.js';
import { StatusValidatorError, redact } from '../errors.js';
import type { SheetsClient } from '../sheets/index.js';
import type { RecentFailures } from './failures.js';
import { send } from './http.js';
import type { LaunchTarget } from './launch.js';
import { PlanAbandoned, planRun, planTargets, type RunPlan } from './plan.js';
import type { RunAsk } from './request.js';

/** What a request's plan found: the targets to launch, the one plan when one target, the totals. */
export interface Planned {
  targets: LaunchTarget[];
  single: RunPlan | undefined;
  rows: number;
  estimatedUsd: number | null;
}

export interface PlannerDeps {
  clientOf: (target: Config) => SheetsClient;
  /** Tabs a person's request could not read lately: remembered here, consulted by the server before a read. */
  failures: RecentFailures;
  listed: boolean;
  secrets: Secrets;
  store: Store;
  log: (line: string) => void;
  now: () => number;
}

/**
 * Reads each target's tab and estimates the run. One target that cannot be read is
 * answered 502 (and remembered a while: `failures`); in a run of several, that target
 * runs without a plan (its own run reads again and its summary says what failed): one
 * target failing stops no other. A plan abandoned (`signal`: its request was answered
 * 503) stops at its next step and answers nothing: undefined.
 */
export function planner(deps: PlannerDeps) {
  const { clientOf, failures, listed, secrets, log } = deps;

  async function planOne(res: ServerResponse, target: Config, ask: RunAsk, now: Date, maxRows: number, signal: AbortSignal): Promise<RunPlan | undefined> {
    try {
      const plan = await planRun(target, clientOf(target), deps.store, ask, now, maxRows, signal);
      failures.forget(target.target.name);
      return plan;
    } catch (error) {
      if (error instanceof PlanAbandoned) return undefined;
      const text = error instanceof StatusValidatorError ? error.message : 'an unexpected error (the server log says more)';
      const at = listed ? `[${target.target.name}] ` : '';
      log(`${at}could not read the sheet before a run: ${redact(String(error), secrets.all)}`);
      const which = listed ? ` of target "${target.target.name}"` : '';
      const body = { error: `could not read the sheet${which} to estimate the run: ${redact(text, secrets.all)}`, ...(listed ? { target: target.target.name } : {}) };
      failures.remember(target.target.name, body);
      if (!res.headersSent) res.setHeader('retry-after', String(Math.ceil(failures.forMs / 1000)));
      send(res, 502, body);
      return undefined;
    }
  }

  return async function planOrAnswer(res: ServerResponse, chosen: readonly Config[], ask: RunAsk, maxRows: number, signal: AbortSignal): Promise<Planned | undefined> {
    const now = new Date(deps.now());
    const [only] = chosen;
    if (only && chosen.length === 1) {
      const plan = await planOne(res, only, ask, now, maxRows, signal);
      return plan && { targets: [{ config: only, sheets: clientOf(only), values: plan.values }], single: plan, rows: plan.rows, estimatedUsd: plan.estimatedUsd };
    }
    const planned = await planTargets(chosen.map((t) => ({ config: t, sheets: clientOf(t) })), deps.store, ask, now);
    for (const { config: t, error } of planned.each) {
      if (error !== undefined) log(`[${t.target.name}] could not read the sheet before a run (it runs and reads again): ${redact(error instanceof Error ? error.message : 'an unexpected error', secrets.all)}`);
    }
    return {
      targets: planned.each.map(({ config: t, plan }) => ({ config: t, sheets: clientOf(t), values: plan?.values, rows: plan?.rows, estimatedUsd: plan?.estimatedUsd })),
      single: undefined,
      rows: planned.rows,
      estimatedUsd: planned.estimatedUsd,
    };
  };
}
