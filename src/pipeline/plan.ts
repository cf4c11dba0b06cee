import { cacheKey, type KeyLookup, type Store } from '../cache/index.js';
import { durationMs, type Config } from '../config/index.js';
import { OUTPUT_SCHEMA_VERSION, PROMPT_VERSION, routeModel, shapeKey, type PromptRules, type Routing, type RowShape } from '../llm/index.js';
import type { Entry, LayoutConfig } from '../sheets/index.js';
import { cascadeModelName, type CascadeConfig } from './cascade/scope.js';
import { verdictCells } from './cells.js';
import type { Known, Selection } from './select.js';

/** The sheet's columns as the config names them. */
export function layoutConfigOf(config: Config): LayoutConfig {
  return {
    sheet: config.sheets.sheet,
    headerRow: config.sheets.header_row,
    inputs: { id: config.columns.id, status: config.columns.status, comment: config.columns.comment, completion_date: config.columns.completion_date },
    extras: Object.entries(config.columns.inputs ?? {}).map(([key, header]) => ({ key, header })),
    outputs: config.output.columns,
    review: { recheck: config.review.recheck_column, override: config.review.override_column },
    outputsInPlace: config.output.sheet === undefined,
  };
}

export function promptRulesOf(config: Config): PromptRules {
  const shape = rowShapeOf(config);
  return { rulesText: config.rules.text, allowedStatuses: config.rules.allowed_statuses ?? [], maxCommentChars: config.llm.max_comment_chars, ...(shape ? { shape } : {}) };
}

/** The row's columns by header, unless they are the standard status + comment (whose prompt stays as it was). */
function rowShapeOf(config: Config): RowShape | undefined {
  const { status, comment, completion_date, inputs } = config.columns;
  const extras = Object.values(inputs ?? {});
  if (status !== undefined && comment !== undefined && extras.length === 0) return undefined;
  return {
    ...(status === undefined ? {} : { status }),
    ...(comment === undefined ? {} : { comment }),
    ...(completion_date === undefined ? {} : { completion_date }),
    extras,
  };
}

/** The model every cache key is computed for: the first provider's. */
export function primaryModel(config: Config): string {
  const primary = config.llm.providers[0];
  if (!primary) throw new RangeError('llm.providers is empty');
  return primary.model;
}

/** A row's cache key: its inputs and everything else that could change the answer. */
export function keyerOf(config: Config): (entry: Entry) => string {
  return keyerFrom(promptRulesOf(config), primaryModel(config), config.llm.routing, config.llm.cascade);
}

/** The keyer over parts already resolved (a RunPlan's): the rules' shape is hashed once, not per row. */
export function keyerFrom(rules: PromptRules, primary: string, routing: Routing | undefined, cascade?: CascadeConfig): (entry: Entry) => string {
  const shape = shapeKey(rules);
  const pair = cascade ? cascadeModelName(cascade) : undefined;
  return (entry) =>
    cacheKey({
      inputs: entry.inputs,
      rulesText: rules.rulesText,
      allowedStatuses: rules.allowedStatuses,
      promptVersion: PROMPT_VERSION,
      // With routing, the model the row is routed to: switching models re-asks. With a cascade, the pair.
      model: routing ? routeModel(entry.inputs, routing) : (pair ?? primary),
      schemaVersion: OUTPUT_SCHEMA_VERSION,
      shape,
    });
}

/** What a verdict depends on besides the row (the semantic cache's partition, like the cache key's other parts). */
export function semanticScope(config: Config): string {
  return scopeFrom(promptRulesOf(config), primaryModel(config));
}

export function scopeFrom(rules: PromptRules, primary: string): string {
  return cacheKey({ inputs: { status: '', comment: '', completion_date: '' }, rulesText: rules.rulesText, allowedStatuses: rules.allowedStatuses, promptVersion: PROMPT_VERSION, model: primary, schemaVersion: OUTPUT_SCHEMA_VERSION, shape: shapeKey(rules) }).slice(0, 32);
}

/**
 * The model's verdict known for a key, in a snapshot the store read for the run's keys
 * (`snapshotOf`). Reviewers' verdicts are not looked up here: one applies only while its
 * own row's cell says so (the overrides table keeps them for eval).
 */
export function lookupIn(snapshot: KeyLookup, minConfidence: number | undefined): (key: string) => Known | undefined {
  return (key) => {
    const cached = snapshot.verdicts.get(key);
    return cached && { cells: verdictCells(cached, minConfidence), checkedAt: cached.checkedAt, askedAt: () => snapshot.answeredBatches.get(key) };
  };
}

/**
 * What the store knows of the rows' keys, read in one consistent lookup, and the keyer
 * that computed them (each row's key is hashed once: selectWork asks again for the same rows).
 */
export async function snapshotOf(store: Store, entries: readonly Entry[], keyer: (entry: Entry) => string): Promise<{ keyOf: (entry: Entry) => string; snapshot: KeyLookup }> {
  const keys = new Map<Entry, string>();
  for (const entry of entries) keys.set(entry, keyer(entry));
  const keyOf = (entry: Entry) => keys.get(entry) ?? keyer(entry);
  return { keyOf, snapshot: await store.lookup([...keys.values()]) };
}

export function staleAfterOf(config: Config, flag: number | undefined): number | undefined {
  const configured = config.review.recheck_older_than;
  return flag ?? (configured === undefined ? undefined : durationMs(configured));
}

/**
 * Whether a run would do anything: cells to write or rows to ask about. Missing output
 * headers (or a missing results tab) are no work by themselves: a run adds them only
 * before its first verdict, so a run for them alone would add nothing, poll after poll.
 */
export function hasWork(selection: Selection): boolean {
  return selection.rewrites.length > 0 || selection.jobs.length > 0;
}

/** Rules speak of dates as people in the sheet see them: the machine's local date. */
export function localDate(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}
