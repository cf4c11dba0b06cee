import type { RowInputs } from '../sheets/index.js';
import { ANSWER_FORMAT, PACKED_FORMAT, parseAnswer, parsePacked } from './answer.js';
import { askProvider, type Asked, type AttemptsContext, type Question, type Unanswered } from './attempts.js';
import { buildMessages, buildPackedMessages } from './prompt.js';
import type { Provider, Usage } from './provider.js';
import { ProviderStanding } from './standing.js';
import { splitUsage, zeroUsage } from './usage.js';
import { decideVerdict } from './verdict.js';
import type { Outcome, ValidatorOptions } from './validator-options.js';

export type { Outcome, RetryEvent, ValidatorOptions } from './validator-options.js';
export { CONNECT_RETRIES, FLEX_RETRIES } from './attempts.js';

/**
 * Gets one row's verdict: tries each provider in order, retrying transient failures
 * with backoff and bad answers with a repair hint. A row that cannot be answered ends
 * as an `error` outcome; only failures that doom every row (a bad key, no quota
 * anywhere) throw, as FatalRunError.
 */
export class Validator {
  /** Which providers are still usable: out of quota, refused and unreachable ones are left out for the run. */
  private readonly standing: ProviderStanding;
  private readonly attempts: AttemptsContext;

  constructor(
    private readonly providers: readonly Provider[],
    private readonly options: ValidatorOptions,
  ) {
    if (providers.length === 0) throw new RangeError('providers must list at least one provider');
    for (const provider of providers) {
      if (!options.gates.has(provider.name)) throw new RangeError(`no gate for provider "${provider.name}"`);
    }
    this.standing = new ProviderStanding(providers, (provider, error) => this.options.onDropped?.(provider, error));
    this.attempts = { options, standing: this.standing };
  }

  async validate(inputs: RowInputs, signal?: AbortSignal): Promise<Outcome> {
    const asked = await this.ask(
      { messages: buildMessages(inputs, this.options.rules, this.options.today), rows: 1, schema: ANSWER_FORMAT, parse: parseAnswer, judged: true },
      this.chain(inputs),
      signal,
    );
    if (!asked.ok) return { kind: 'error', reason: asked.reason, usage: asked.usage };
    return { kind: 'verdict', provider: asked.provider, model: asked.model, usage: asked.usage, ...decideVerdict(asked.value, inputs, this.options.allowedStatuses) };
  }

  /**
   * Several rows in one request (llm.rows_per_request): the static prefix is paid once
   * for all of them. A row the answer leaves out, or answers badly, is asked alone.
   */
  async validateMany(rows: readonly RowInputs[], signal?: AbortSignal): Promise<Outcome[]> {
    if (rows.length === 1 && rows[0]) return [await this.validate(rows[0], signal)];
    const labels = rows.map((_, i) => `r${i + 1}`);
    const asked = await this.ask(
      {
        messages: buildPackedMessages(rows.map((inputs, i) => ({ label: labels[i] ?? '', inputs })), this.options.rules, this.options.today),
        rows: rows.length,
        schema: PACKED_FORMAT,
        parse: (content) => parsePacked(content, labels),
      },
      // A packed request's rows share a route (the caller groups them so).
      rows[0] ? this.chain(rows[0]) : this.providers,
      signal,
    );
    const share = asked.ok ? splitUsage(asked.usage, asked.value.size) : zeroUsage();
    return Promise.all(
      rows.map(async (inputs, i) => {
        const answer = asked.ok ? asked.value.get(labels[i] ?? '') : undefined;
        if (!asked.ok || !answer) return this.validate(inputs, signal);
        return { kind: 'verdict' as const, provider: asked.provider, model: asked.model, usage: share, ...decideVerdict(answer, inputs, this.options.allowedStatuses) };
      }),
    );
  }

  private chain(inputs: RowInputs): readonly Provider[] {
    return this.options.route?.(inputs) ?? this.providers;
  }

  /** Asks each provider in turn until one answers usably; throws only when every row is doomed. */
  private async ask<T>(question: Question<T>, chain: readonly Provider[], signal?: AbortSignal): Promise<Asked<T>> {
    // Judged a configuration problem: no further question is sent.
    const stopped = this.options.judge?.stopped;
    if (stopped) throw stopped;
    const usage = zeroUsage();
    const reasons: string[] = [];
    for (const provider of chain) {
      if (this.standing.unusable(provider)) continue;
      const result = await askProvider(this.attempts, provider, question, usage, signal);
      if (result.ok) return result;
      reasons.push(result.reason);
    }
    return this.unanswered(chain, reasons, usage);
  }

  /** No provider of the chain answered: the row ends ERROR, or the run stops (throws) when no row can be answered. */
  private unanswered(chain: readonly Provider[], reasons: readonly string[], usage: Usage): Unanswered {
    if (!chain.every((p) => this.standing.unusable(p))) return { ok: false, reason: reasons.join(' Then: '), usage };
    // Only when no provider of the run is left can no row be answered; while another
    // route still works (a 403 on one routed model), this row alone ends ERROR. An
    // outage is nobody's row: with every provider of its route unreachable, the run
    // stops and the row keeps what it shows, to be asked next run.
    if (chain.some((p) => this.standing.outage(p) !== undefined) || this.standing.noneLeft()) {
      const fatal = this.standing.doomed(chain, reasons);
      // Stopped by the judge's verdict: the held ERROR cells are the configuration's, not written.
      this.options.judge?.doomed(fatal);
      throw fatal;
    }
    const why = chain.map((p) => this.standing.refusal(p)?.message).find((m) => m !== undefined);
    return { ok: false, reason: [...reasons, ...(reasons.length === 0 && why ? [why] : [])].join(' Then: ') || 'no provider of this row is left', usage };
  }

  /**
   * Checks the keys of these providers (the fallbacks) before any row needs them, and drops
   * those refused: a fallback with a bad key is found out now, not the night the primary fails.
   */
  async dropRefused(providers: readonly Provider[], signal?: AbortSignal): Promise<void> {
    await Promise.all(
      providers.map(async (provider) => {
        const refused = await provider.refusedKey(signal);
        if (refused) this.standing.drop(provider, refused);
      }),
    );
  }
}
