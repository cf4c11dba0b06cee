import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RunEvent, RunSummary } from '../pipeline/index.js';

/** How a run ended, besides its summary: what the command made of it. */
export interface RunEnd {
  summary: RunSummary;
  exitCode: number;
  /** Another run held the lock: it did not run. */
  locked: boolean;
  /** The provider (config name) a model was asked through; "" when none of the config's. */
  providerOf: (model: string) => string;
}

const PREFIX = 'status_validator_';

/**
 * The process's metrics (Prometheus text format through prom-client), fed by the runs'
 * events as they happen (`listen`: RunOptions.onEvent, src/pipeline/events.ts — each
 * call's provider and model and whether it was a 429, each retry's provider, each Sheets
 * call's kind and status) and by their end (RunEnd: the summary the pipeline hands back),
 * never by reading the pipeline's counters. What the events count is not counted again
 * from the summary. Labels are the config's own names (targets, providers, models) and
 * fixed words: no email, token, row content or URL ever becomes a label.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly runs = new Counter({ name: `${PREFIX}runs_total`, help: 'Runs ended, by status (completed, completed_with_errors, interrupted, failed, locked), target and trigger.', labelNames: ['status', 'target', 'trigger'], registers: [this.registry] });
  private readonly rows = new Counter({ name: `${PREFIX}rows_total`, help: "Rows answered by runs, by verdict (valid, invalid, error, needs_review) and target.", labelNames: ['verdict', 'target'], registers: [this.registry] });
  private readonly requests = new Counter({ name: `${PREFIX}llm_requests_total`, help: 'LLM requests by provider, model and outcome (answered: a response with usage; rate_limited: a 429; failed: another error; retried: per provider, model "(any)"; connection_failure: per run, provider and model "(any)").', labelNames: ['provider', 'model', 'outcome'], registers: [this.registry] });
  private readonly tokens = new Counter({ name: `${PREFIX}llm_tokens_total`, help: 'Tokens by kind (prompt, cached, completion) and model; cached tokens are part of the prompt tokens.', labelNames: ['kind', 'model'], registers: [this.registry] });
  private readonly cost = new Counter({ name: `${PREFIX}cost_usd_total`, help: 'What the runs cost in US dollars, by target (models without a known price add nothing).', labelNames: ['target'], registers: [this.registry] });
  private readonly retries = new Counter({ name: `${PREFIX}retries_total`, help: 'Requests retried after a 429, a 5xx or a timeout, by service (llm, sheets).', labelNames: ['service'], registers: [this.registry] });
  private readonly sheetsCallsByKind = new Counter({ name: `${PREFIX}sheets_calls_total`, help: 'Sheets API calls (each attempt) by target, kind (read, write) and outcome (ok, rate_limited: a 429, failed).', labelNames: ['target', 'kind', 'outcome'], registers: [this.registry] });
  private readonly sheetsCalls = new Counter({ name: `${PREFIX}sheets_write_calls_total`, help: 'Sheets values write calls made by runs, by target.', labelNames: ['target'], registers: [this.registry] });
  private readonly duration = new Histogram({ name: `${PREFIX}run_duration_seconds`, help: 'Wall time of a run, by target.', labelNames: ['target'], buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200], registers: [this.registry] });
  private readonly lastSuccess = new Gauge({ name: `${PREFIX}last_success_timestamp_seconds`, help: 'End of the last successful run (exit 0 or 3: it ran to its end) per target, in Unix seconds; alert on time() minus this.', labelNames: ['target'], registers: [this.registry] });
  private readonly lastRun = new Gauge({ name: `${PREFIX}last_run_timestamp_seconds`, help: 'End of the last run per target, in Unix seconds, whatever its status.', labelNames: ['target'], registers: [this.registry] });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    // The process's own figures (CPU, memory, event loop), under the same prefix.
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: PREFIX });
  }

  /** A listener of one run's events (RunOptions.onEvent) for `target`: what a summary cannot tell (which provider answered 429, Sheets reads). */
  listen(target: string): (event: RunEvent) => void {
    return (event) => {
      switch (event.type) {
        case 'asked':
          // An answered call is counted from the summary at the run's end (with its usage); a refused one here, by provider.
          if (event.failed) this.requests.inc({ provider: event.provider, model: event.model, outcome: event.failed });
          return;
        case 'retried':
          this.requests.inc({ provider: event.retry.provider, model: '(any)', outcome: 'retried' });
          this.retries.inc({ service: 'llm' });
          return;
        case 'sheet-call':
          this.sheetsCallsByKind.inc({ target, kind: event.kind, outcome: !event.failed ? 'ok' : event.status === 429 ? 'rate_limited' : 'failed' });
          return;
        default:
          return;
      }
    };
  }

  runEnded(end: RunEnd): void {
    const s = end.summary;
    const target = s.target;
    this.runs.inc({ status: end.locked ? 'locked' : s.status, target, trigger: s.trigger });
    const endedAt = Date.parse(s.endedAt) / 1000;
    if (Number.isFinite(endedAt)) this.lastRun.set({ target }, endedAt);
    if (end.locked) return;
    if ((s.status === 'completed' || s.status === 'completed_with_errors') && Number.isFinite(endedAt)) this.lastSuccess.set({ target }, endedAt);
    this.duration.observe({ target }, Math.max(0, s.wallMs) / 1000);
    const v = s.verdicts;
    for (const [verdict, n] of [['valid', v.valid], ['invalid', v.invalid], ['error', v.error], ['needs_review', v.needsReview]] as const) if (n > 0) this.rows.inc({ verdict, target }, n);
    for (const [model, usage] of Object.entries(s.llm.byModel)) {
      const provider = end.providerOf(model);
      if (usage.calls > 0) this.requests.inc({ provider, model, outcome: 'answered' }, usage.calls);
      if (usage.promptTokens > 0) this.tokens.inc({ kind: 'prompt', model }, usage.promptTokens);
      if (usage.cachedTokens > 0) this.tokens.inc({ kind: 'cached', model }, usage.cachedTokens);
      if (usage.completionTokens > 0) this.tokens.inc({ kind: 'completion', model }, usage.completionTokens);
    }
    if (s.llm.connectionFailures > 0) this.requests.inc({ provider: '(any)', model: '(any)', outcome: 'connection_failure' }, s.llm.connectionFailures);
    if (s.writes.sheetRetries > 0) this.retries.inc({ service: 'sheets' }, s.writes.sheetRetries);
    if (s.writes.calls > 0) this.sheetsCalls.inc({ target }, s.writes.calls);
    if (s.llm.costUsd !== null && s.llm.costUsd > 0) this.cost.inc({ target }, s.llm.costUsd);
  }

  /** The exposition text and its content type. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
