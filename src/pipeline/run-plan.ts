import type { Config, ProviderConfig, Secrets } from '../config/index.js';
import { priceTable, routeModel, type PriceTable, type PromptRules, type Routing } from '../llm/index.js';
import type { Entry, LayoutConfig, LookPiece, ResultsTabConfig, RowInputs } from '../sheets/index.js';
import { cascadeModelName } from './cascade/scope.js';
import { lookPieces } from './look.js';
import { keyerFrom, layoutConfigOf, primaryModel, promptRulesOf, scopeFrom, staleAfterOf } from './plan.js';
import { lockOf, type RunLockName } from './run-lock.js';

/**
 * What a target's rows are sorted and asked by, resolved from its config alone: what
 * serve's estimate and watch's polls need without a run (and without secrets).
 */
export interface QuestionPlan {
  readonly target: Config['target'];
  /** The spreadsheet, tab, header row, API root and quotas. */
  readonly sheets: Config['sheets'];
  readonly layout: LayoutConfig;
  readonly rules: PromptRules;
  /** The model every cache key is computed for: the first provider's. */
  readonly primaryModel: string;
  readonly routing: Routing | undefined;
  /** The model a row is asked with (routing picks it; else the primary). */
  readonly modelOf: (inputs: RowInputs) => string;
  /** A row's cache key (keyerOf). */
  readonly keyOf: (entry: Entry) => string;
  readonly minConfidence: number | undefined;
  /** review.recheck_older_than in ms (a --recheck-older-than flag wins over it). */
  readonly staleAfterMs: number | undefined;
  readonly prices: PriceTable;
  /** The request settings (workers, retries, timeouts, packing, prompt cache key). */
  readonly llm: Config['llm'];
}

/** A provider of the run, in the config's order, with its API key. */
export interface ProviderPlan {
  readonly config: ProviderConfig;
  readonly apiKey: string;
}

/**
 * A run's plan: the config (and the secrets it names) resolved once per target per run,
 * then handed down the pipeline instead of the config, so that no step derives the same
 * piece again (the rules, the keyer, the layout, the lock's name...). It holds the API
 * keys and the service-account key: it is never logged, serialized or shown.
 */
export interface RunPlan extends QuestionPlan {
  readonly lock: RunLockName;
  readonly providers: readonly ProviderPlan[];
  readonly serviceAccount: Secrets['serviceAccount'];
  readonly cache: Config['cache'];
  /** cache.semantic: the threshold and the partition of its vectors; undefined when off. */
  readonly semantic: { readonly threshold: number; readonly scope: string; readonly headers: readonly string[] } | undefined;
  readonly fuzzyThreshold: number | undefined;
  readonly writeBatchSize: number;
  readonly runsSheet: string | undefined;
  /**
   * The config this plan was resolved from: only for llm.cascade (src/pipeline/cascade), which
   * still resolves its calibration scope and per-model keys from the config itself.
   */
  readonly source: Config;
  /** report.dashboard_sheet: charts over the Runs tab, kept after each run's Runs row. */
  readonly dashboardSheet: string | undefined;
  /** output.format: the columns whose look (colours, checkboxes, the reviewer list) the run keeps. */
  readonly look: readonly LookPiece[];
  /** output.sheet: the results tab; undefined when verdicts go beside the rows. */
  readonly resultsTab: ResultsTabConfig | undefined;
}

export function questionPlanOf(config: Config): QuestionPlan {
  const rules = promptRulesOf(config);
  const primary = primaryModel(config);
  const routing = config.llm.routing;
  const cascade = config.llm.cascade;
  return {
    target: config.target,
    sheets: config.sheets,
    layout: layoutConfigOf(config),
    rules,
    primaryModel: primary,
    routing,
    // With a cascade every row is asked of the pair (small first), and cached under the pair's name.
    modelOf: routing ? (inputs) => routeModel(inputs, routing) : cascade ? () => cascadeModelName(cascade) : () => primary,
    keyOf: keyerFrom(rules, primary, routing, cascade),
    minConfidence: config.review.min_confidence,
    staleAfterMs: staleAfterOf(config, undefined),
    prices: priceTable(config.pricing),
    llm: config.llm,
  };
}

export function planOf(config: Config, secrets: Pick<Secrets, 'apiKeys' | 'serviceAccount'>): RunPlan {
  const questions = questionPlanOf(config);
  const tab = config.output.sheet;
  return {
    ...questions,
    lock: lockOf(config.sheets),
    providers: config.llm.providers.map((provider) => ({ config: provider, apiKey: secrets.apiKeys.get(provider.name) ?? '' })),
    serviceAccount: secrets.serviceAccount,
    cache: config.cache,
    semantic: config.cache.semantic ? { threshold: config.cache.semantic_threshold, scope: scopeFrom(questions.rules, questions.primaryModel), headers: questions.rules.shape?.extras ?? [] } : undefined,
    fuzzyThreshold: config.dedup.fuzzy_threshold,
    writeBatchSize: config.output.write_batch_size,
    runsSheet: config.report.runs_sheet,
    source: config,
    dashboardSheet: config.report.dashboard_sheet,
    look: lookPieces(config),
    resultsTab:
      tab === undefined
        ? undefined
        : { spreadsheetId: config.sheets.spreadsheet_id, tab, sourceTab: config.sheets.sheet, idHeader: config.columns.id ?? 'Id', outputs: config.output.columns },
  };
}
