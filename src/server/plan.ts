import type { Store } from '../cache/index.js';
import type { Config } from '../config/index.js';
import { estimateRoutedYielding } from '../estimate/index.js';
import { loadTokenizer, priceOf } from '../llm/index.js';
import { localDate, lookupIn, questionPlanOf, selectWork, type Selection } from '../pipeline/index.js';
import { mapHeaders, readEntries, readTabChunks, type CellValues, type Entry, type Layout, type SheetsClient } from '../sheets/index.js';
import type { RunAsk } from './request.js';

/** Expected answer tokens per row when the cache has no history (as `estimate` assumes). */
const DEFAULT_COMPLETION_TOKENS = 120;

/** What a run would do, found before it starts: the figures the caps are checked against. */
export interface RunPlan {
  /** The tab as read when it came in one read (handed to the run, which then does not read it again); undefined for a tab read in chunks, which the run reads itself. */
  values: CellValues | undefined;
  /** Rows the run would ask the model about. */
  rows: number;
  /** By the estimate (sync mode, prompt caching); null when the model has no price or the run was not estimated (over `maxRows`). */
  estimatedUsd: number | null;
  /** False when the rows alone were over `maxRows`: no estimate was made. */
  estimated: boolean;
  /** Ids asked for that no row of the tab has. */
  unknownRows: string[];
  /** Ids asked for that a row has. */
  knownRows: string[];
}

/** Thrown when the request a plan is for was answered meanwhile (503): nothing more to read or estimate. */
export class PlanAbandoned extends Error {
  constructor() {
    super('the request this plan was for has been answered');
  }
}

let tokenizer: Promise<(text: string) => number> | undefined;

/**
 * Reads the tab once and estimates the run as `estimate` does (the same selection, the
 * same prices). A run of more than `maxRows` rows is refused on its row count alone, so
 * it is not estimated: the cheap limit is checked before the costly one. The estimate
 * yields to the event loop as it goes.
 */
export async function planRun(config: Config, sheets: SheetsClient, store: Store, ask: RunAsk, now: Date, maxRows = Infinity, signal?: AbortSignal): Promise<RunPlan> {
  tokenizer ??= loadTokenizer();
  // The config resolved once: the keys, the rules, the models and prices the run would use.
  const plan = questionPlanOf(config);
  // In chunks, as the run reads (issue 25): a tab past the 180 s processing deadline in one read is read in several.
  let values: CellValues | undefined;
  let layout: Layout | undefined;
  let entries: Entry[] = [];
  for await (const read of readTabChunks(sheets, config.sheets.sheet, config.sheets.header_row)) {
    if (signal?.aborted) throw new PlanAbandoned();
    layout ??= mapHeaders(read.values[config.sheets.header_row - 1] ?? [], plan.layout);
    if (read.whole) values = read.values;
    for (const entry of readEntries(read.values, layout, read.firstRow).entries) entries.push(entry);
  }
  const present = new Set(entries.map((e) => e.id).filter((id) => id !== ''));
  const knownRows = ask.rows?.filter((id) => present.has(id)) ?? [];
  const unknownRows = ask.rows?.filter((id) => !present.has(id)) ?? [];
  if (ask.rows) {
    // As the run will: only the named rows, each asked again (src/pipeline/run.ts, onlyRows).
    const wanted = new Set(ask.rows);
    entries = entries.filter((e) => wanted.has(e.id));
  }
  {
    const keyOf = await keysInSteps(entries, plan.keyOf);
    if (signal?.aborted) throw new PlanAbandoned();
    const snapshot = await store.lookup([...new Set(entries.map(keyOf))]);
    const jobs = await selectInSteps(entries, keyOf, lookupIn(snapshot, plan.minConfidence), {
      force: ask.force || ask.rows !== undefined,
      limit: undefined,
      staleAfterMs: plan.staleAfterMs,
      now: now.getTime(),
    });
    const rows = jobs.reduce((n, j) => n + j.entries.length, 0);
    if (rows > maxRows) return { values, rows, estimatedUsd: null, estimated: false, unknownRows, knownRows };
    if (signal?.aborted) throw new PlanAbandoned();
    // With llm.routing each row is asked of the model it is routed to (src/pipeline/ask.ts),
    // and priced at that model's price; a model without one leaves the run unpriced.
    const modes = await estimateRoutedYielding(
      {
        questions: jobs.map((j) => j.inputs),
        rules: plan.rules,
        today: localDate(now),
        count: await tokenizer,
        completionPerRow: Math.round((await store.averageTokens())?.completionTokens ?? DEFAULT_COMPLETION_TOKENS),
        packSize: config.llm.rows_per_request,
      },
      { modelOf: plan.modelOf, priceOf: (model) => priceOf(model, plan.prices) },
    );
    const estimatedUsd = modes[config.llm.rows_per_request > 1 ? 2 : 1]?.costUsd ?? null;
    return { values, rows, estimatedUsd, estimated: true, unknownRows, knownRows };
  }
}

/** Each row's key, hashed a step at a time with a turn of the event loop between (see selectInSteps); the keyer then reads them back. */
async function keysInSteps(entries: readonly Entry[], keyer: (entry: Entry) => string): Promise<(entry: Entry) => string> {
  const keys = new Map<Entry, string>();
  for (let i = 0; i < entries.length; i += SELECT_STEP) {
    if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    for (const entry of entries.slice(i, i + SELECT_STEP)) keys.set(entry, keyer(entry));
  }
  return (entry) => keys.get(entry) ?? keyer(entry);
}

type Job = Selection['jobs'][number];

/** Rows sorted between two turns of the event loop (a key hash and a cache lookup each). */
const SELECT_STEP = 1000;

/**
 * The questions of the rows, as one selectWork over them all would find them, in steps
 * with a turn of the event loop between: 20,000 rows take about half a second of
 * hashing and lookups, which the server must not spend without answering anyone nor
 * beating its locks' heartbeats. Without a limit, a step depends on no other but for
 * identical questions, merged here by key in first-seen order as selectWork does.
 */
type SelectArgs = Parameters<typeof selectWork>;

async function selectInSteps(entries: readonly Entry[], keyOf: SelectArgs[1], lookup: SelectArgs[2], options: SelectArgs[3]): Promise<Job[]> {
  const merged = new Map<string, Job>();
  for (let i = 0; i < entries.length; i += SELECT_STEP) {
    if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    for (const job of selectWork(entries.slice(i, i + SELECT_STEP), keyOf, lookup, options).jobs) {
      const seen = merged.get(job.key);
      if (seen) seen.entries.push(...job.entries);
      else merged.set(job.key, { ...job, entries: [...job.entries] });
    }
  }
  return [...merged.values()];
}

/** The plans of the targets of one run: each read once; one that cannot be read runs without (its run says why). */
export interface TargetsPlan {
  /** Per target, in order: its plan, or why its tab could not be read. */
  each: Array<{ config: Config; plan: RunPlan | undefined; error: unknown }>;
  rows: number;
  /** The sum; null when a model has no price. */
  estimatedUsd: number | null;
}

export async function planTargets(targets: ReadonlyArray<{ config: Config; sheets: SheetsClient }>, store: Store, ask: RunAsk, now: Date): Promise<TargetsPlan> {
  const settled = await Promise.allSettled(targets.map(({ config, sheets }) => planRun(config, sheets, store, ask, now)));
  const each = settled.map((result, i) => ({
    config: (targets[i] as { config: Config }).config,
    plan: result.status === 'fulfilled' ? result.value : undefined,
    error: result.status === 'rejected' ? (result.reason as unknown) : undefined,
  }));
  const plans = each.flatMap((e) => (e.plan ? [e.plan] : []));
  const costs = plans.map((p) => p.estimatedUsd);
  return { each, rows: plans.reduce((n, p) => n + p.rows, 0), estimatedUsd: costs.includes(null) ? null : costs.reduce<number>((a, b) => a + (b ?? 0), 0) };
}
