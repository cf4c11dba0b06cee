import { createHash } from 'node:crypto';
import { FatalRunError, LlmError } from '../errors.js';
import { backoffDelay, sleep, type BackoffOptions } from '../retry/index.js';
import type { RowInputs } from '../sheets/index.js';
import { ANSWER_FORMAT, PACKED_FORMAT, parseAnswer, parsePacked, type ResponseSchema } from './answer.js';
import type { ProviderGate } from './gate.js';
import { clipText } from './clip.js';
import { buildMessages, buildPackedMessages, type ChatMessage, type PromptRules } from './prompt.js';
import type { BilledTier } from './kinds/index.js';
import type { Completion, Provider, Usage } from './provider.js';
import type { ServiceTier } from '../config/index.js';
import type { RefusalJudge } from './refusal-judge.js';
import type { AnswerReserve, AnswerSizesOf } from './reserve.js';
import { decideVerdict, type Verdict } from './verdict.js';
import { plural } from '../plural.js';

export type Outcome =
  | ({ kind: 'verdict'; provider: string; model: string; usage: Usage } & Verdict)
  | { kind: 'error'; reason: string; usage: Usage };

export interface RetryEvent {
  provider: string;
  attempt: number;
  reason: string;
  waitMs: number;
}

export interface ValidatorOptions {
  rules: PromptRules;
  allowedStatuses: readonly string[];
  /** Retries per provider after the first attempt. */
  maxRetries: number;
  /** YYYY-MM-DD, put in every prompt since rules speak of dates. */
  today: string;
  /** Pacing per provider name: cool-down, budgets, adaptive concurrency. */
  gates: ReadonlyMap<string, ProviderGate>;
  /** Prompt tokens of a request, to reserve against a token budget (asked only when there is one). */
  estimate: (messages: readonly ChatMessage[]) => Promise<number>;
  /** Added to the prompt estimate: providers count max_completion_tokens against the budget. */
  maxCompletionTokens: number;
  backoff?: BackoffOptions;
  onRetry?: (event: RetryEvent) => void;
  /** A call answered or refused; `billed`: the prices its answer is billed at (the tier that served it). */
  /** Each call a provider answered; `failed` when it answered with an error ('rate_limited': a 429), for the metrics. */
  onCall?: (provider: Provider, usage: Usage, billed: BilledTier, failed?: 'rate_limited' | 'failed') => void;
  /**
   * Flex at work: a request sent at flex, a flex capacity refusal (unbilled), a request sent
   * again at auto after FLEX_RETRIES refusals.
   */
  onFlex?: (event: 'sent' | 'refused' | 'fell_back', provider: Provider) => void;
  /** A request never reached the provider (refused, DNS, TLS): not a call, counted apart. */
  onConnectionFailure?: (provider: Provider, error: LlmError) => void;
  /** A provider was dropped for the rest of the run (its key was refused): said once per provider. */
  onDropped?: (provider: Provider, error: LlmError) => void;
  /** The providers to ask for a row, in order (routing); all of them by default. */
  route?: (inputs: RowInputs) => readonly Provider[];
  /** Tells a 400 every row gets (stops the run) from a row's own (src/llm/refusal-judge.ts). */
  judge?: RefusalJudge;
  /**
   * What answers use (src/llm/reserve.ts): against a token budget a request reserves and asks
   * for the size learned for its prompt (`prompt`: the rules' digest) instead of the full cap.
   */
  answerSizes?: { reserve: AnswerReserve; prompt: string } | undefined;
  /** An answer cut at a learned (lower) cap, asked again at the full cap. */
  onAskedAgain?: (provider: Provider) => void;
}

const zeroUsage = (): Usage => ({ promptTokens: 0, completionTokens: 0, cachedTokens: 0 });

/**
 * A request that cannot connect is tried again this many times, soon (full jitter under
 * 250 ms, 500 ms, 1 s: under 2 s in all), and then the provider is given up for the run:
 * an endpoint that refused four connections in a row is down or misconfigured, and
 * every row asked of it would only wait out max_retries to end ERROR.
 */
export const CONNECT_RETRIES = 3;
const CONNECT_BACKOFF: BackoffOptions = { baseMs: 250, capMs: 2_000 };

/**
 * A request refused for flex capacity is sent again at flex this many times, with backoff,
 * then at service_tier auto, as OpenAI advises ("retry with exponential backoff", or send it
 * "with service_tier auto" to fall back to standard processing when timely completion matters:
 * https://platform.openai.com/docs/guides/flex-processing). Not counted against max_retries:
 * the row's request did not fail, flex had no room for it.
 */
export const FLEX_RETRIES = 2;

/**
 * Gets one row's verdict: tries each provider in order, retrying transient failures
 * with backoff and bad answers with a repair hint. A row that cannot be answered ends
 * as an `error` outcome; only failures that doom every row (a bad key, no quota
 * anywhere) throw, as FatalRunError.
 */
export class Validator {
  private readonly exhausted = new Set<string>();
  /** Providers whose key was refused (401/403), by name: skipped for the rest of the run. */
  private readonly dropped = new Map<string, LlmError>();
  /** Providers that could not be connected to (refused, DNS, TLS), by name: given up for the run. */
  private readonly unreachable = new Map<string, LlmError>();

  constructor(
    private readonly providers: readonly Provider[],
    private readonly options: ValidatorOptions,
  ) {
    if (providers.length === 0) throw new RangeError('providers must list at least one provider');
    for (const provider of providers) {
      if (!options.gates.has(provider.name)) throw new RangeError(`no gate for provider "${provider.name}"`);
    }
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

  /** Which answer sizes a question of `rows` rows to this provider learns and reserves by. */
  private sizesOf(provider: Provider, rows: number): AnswerSizesOf | undefined {
    const sizes = this.options.answerSizes;
    if (!sizes?.reserve.enabled) return undefined;
    return { provider: provider.config.base_url, model: provider.model, prompt: `${sizes.prompt}/rows-${rows}` };
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
      if (this.unusable(provider)) continue;
      const result = await this.askProvider(provider, question, usage, signal);
      if (result.ok) return result;
      reasons.push(result.reason);
    }
    if (chain.every((p) => this.unusable(p))) {
      // Only when no provider of the run is left can no row be answered; while another
      // route still works (a 403 on one routed model), this row alone ends ERROR. An
      // outage is nobody's row: with every provider of its route unreachable, the run
      // stops and the row keeps what it shows, to be asked next run.
      if (chain.some((p) => this.unreachable.has(p.name)) || this.providers.every((p) => this.unusable(p))) {
        const fatal = this.doomed(chain, reasons);
        // Stopped by the judge's verdict: the held ERROR cells are the configuration's, not written.
        this.options.judge?.doomed(fatal);
        throw fatal;
      }
      const why = chain.map((p) => this.refusal(p)?.message).find((m) => m !== undefined);
      return { ok: false, reason: [...reasons, ...(reasons.length === 0 && why ? [why] : [])].join(' Then: ') || 'no provider of this row is left', usage };
    }
    return { ok: false, reason: reasons.join(' Then: '), usage };
  }

  private unusable(provider: Provider): boolean {
    return this.exhausted.has(provider.name) || this.unreachable.has(provider.name) || this.refusal(provider) !== undefined;
  }

  /**
   * Why a provider was dropped: a 401 refuses the key (every model of that provider),
   * a 403 refuses access to one model (the provider's other routed models still work).
   */
  private refusal(provider: Provider): LlmError | undefined {
    return this.dropped.get(provider.name) ?? this.dropped.get(modelKey(provider));
  }

  /** Every provider of the chain is out of quota, refused its key or cannot be reached: no row can be answered. */
  private doomed(chain: readonly Provider[], reasons: readonly string[]): FatalRunError {
    const down = chain.filter((p, i) => this.unreachable.has(p.name) && chain.findIndex((q) => q.name === p.name) === i);
    // What to fix first is the first provider's problem: its endpoint, or its key.
    const firstOut = chain.find((p) => this.unreachable.has(p.name) || this.refusal(p) !== undefined);
    if (firstOut && this.unreachable.has(firstOut.name)) {
      // The endpoint is named here (the terminal, the log), never in a cell.
      const each = down.map((p) => `${this.unreachable.get(p.name)?.message ?? ''} (endpoint ${this.unreachable.get(p.name)?.endpoint ?? p.host})`);
      const first = this.unreachable.get(down[0]?.name ?? '');
      const all = new Set(chain.map((p) => p.name)).size === down.length;
      return new FatalRunError(`No provider ${all ? 'can be reached' : 'can answer'}: ${each.join('; ')}.`, {
        hint: `${first?.hint ?? 'Check llm.providers[].base_url.'} The rows not answered keep what they show and are asked on the next run.`,
        cause: first,
      });
    }
    // A refused key is what to fix first: the primary's when it is one of them.
    const refused = chain.map((p) => this.refusal(p)).find((e) => e !== undefined);
    if (refused) return new FatalRunError(refused.message, { hint: refused.hint ?? 'Fix the API key and run again.', cause: refused });
    return new FatalRunError(`No provider can answer: ${reasons.at(-1) ?? 'every provider is out of quota'}.`, {
      hint: 'Add credit to the provider account, or configure a fallback provider under llm.providers.',
    });
  }

  /**
   * Checks the keys of these providers (the fallbacks) before any row needs them, and drops
   * those refused: a fallback with a bad key is found out now, not the night the primary fails.
   */
  async dropRefused(providers: readonly Provider[], signal?: AbortSignal): Promise<void> {
    await Promise.all(
      providers.map(async (provider) => {
        const refused = await provider.refusedKey(signal);
        if (refused) this.drop(provider, refused);
      }),
    );
  }

  /** A refused key (or a model that does not exist) dooms only its provider: the run goes on with the others, and says so. */
  private drop(provider: Provider, error: LlmError): void {
    if (this.refusal(provider)) return;
    // A 403 or a config error (no such model) concerns one model; a 401 the whole key.
    this.dropped.set(error.status === 403 || error.kind === 'config' ? modelKey(provider) : provider.name, error);
    this.options.onDropped?.(provider, error);
  }

  /** An endpoint that cannot be connected to is left out for the run, said once (a fallback may carry on). */
  private giveUp(provider: Provider, error: LlmError): void {
    if (this.unreachable.has(provider.name)) return;
    this.unreachable.set(provider.name, error);
    // With no provider left the run stops, and its error says this: a warning would say it twice.
    if (this.providers.some((p) => !this.unusable(p))) this.options.onDropped?.(provider, error);
  }

  private async askProvider<T>(provider: Provider, question: Question<T>, usage: Usage, signal?: AbortSignal): Promise<Asked<T>> {
    const gate = this.options.gates.get(provider.name) as ProviderGate;
    let conversation = question.messages;
    let reason = '';
    let connectRetries = 0;
    // Flex refused for capacity FLEX_RETRIES + 1 times: this question goes at auto from then on.
    let flexRefusals = 0;
    let tier: ServiceTier | undefined;
    // Once an answer was cut at the learned cap, this question asks for the full cap.
    let atFullCap = false;
    const sizesOf = this.sizesOf(provider, question.rows);
    for (let attempt = 0; attempt <= this.options.maxRetries; ) {
      // Given up by another request meanwhile: this one goes on to the next provider.
      const down = this.unreachable.get(provider.name);
      if (down) return { ok: false, reason: down.message, usage };
      const mode = provider.mode;
      const fullCap = Math.min(100_000, provider.outputCap ?? Infinity, this.options.maxCompletionTokens * question.rows);
      // Estimated only once the gate meters tokens (it may learn to while this waits for a slot).
      // Only then is the learned size asked for: without a token budget a lower cap saves
      // nothing and risks a cut answer (Ollama, a local vLLM, a provider that states no limit).
      // Decided when the request leaves the gate, not when it joins the queue: the answers
      // that arrived while it waited count.
      const sizes = sizesOf && !atFullCap ? this.options.answerSizes?.reserve : undefined;
      const ticket = await gate.enter(async () => {
        if (sizes && sizesOf) await sizes.load(sizesOf);
        const prompt = await this.options.estimate(conversation);
        return sizes && sizesOf ? { prompt, completion: fullCap, completionAtDeparture: () => sizes.reserveNow(sizesOf, fullCap) } : { prompt, completion: fullCap };
      }, signal);
      const maxTokens = ticket.completion > 0 ? Math.min(fullCap, ticket.completion) : fullCap;
      let completion: Completion;
      const sentTier = tier ?? provider.serviceTier;
      if (sentTier === 'flex') this.options.onFlex?.('sent', provider);
      try {
        completion = await provider.complete(conversation, signal, question.schema, maxTokens, { serviceTier: sentTier });
      } catch (error) {
        if (!(error instanceof LlmError)) {
          gate.leave(ticket, { kind: 'failed' });
          throw error;
        }
        if (error.kind === 'unreachable') {
          gate.leave(ticket, { kind: 'failed' });
          this.options.onConnectionFailure?.(provider, error);
          if (connectRetries >= CONNECT_RETRIES) {
            this.giveUp(provider, error);
            return { ok: false, reason: error.message, usage };
          }
          await sleep(backoffDelay(connectRetries++, CONNECT_BACKOFF), signal);
          continue;
        }
        if (error.kind === 'flex_capacity') {
          // Not a rate limit: no shared cool-down, no limit corrected, nothing learned from its headers.
          gate.leave(ticket, { kind: 'failed' });
          this.options.onCall?.(provider, zeroUsage(), 'standard', 'failed');
          this.options.onFlex?.('refused', provider);
          reason = error.message;
          if (flexRefusals >= FLEX_RETRIES) {
            tier = 'auto';
            this.options.onFlex?.('fell_back', provider);
            continue;
          }
          const flexWaitMs = error.retryAfterMs ?? backoffDelay(flexRefusals, this.options.backoff);
          flexRefusals++;
          this.options.onRetry?.({ provider: provider.name, attempt: flexRefusals, reason, waitMs: flexWaitMs });
          await sleep(flexWaitMs, signal);
          continue;
        }
        const waitMs = error.retryAfterMs ?? backoffDelay(attempt, this.options.backoff);
        // A 429 pauses every worker of this provider (the gate's shared cool-down).
        gate.leave(ticket, error.kind === 'rate_limit' ? { kind: 'rate_limited', waitMs } : { kind: 'failed' }, error.headers);
        this.options.onCall?.(provider, zeroUsage(), 'standard', error.kind === 'rate_limit' ? 'rate_limited' : 'failed');
        reason = error.message;
        if (error.kind === 'auth' || error.kind === 'config') {
          this.drop(provider, error);
          return { ok: false, reason, usage };
        }
        if (error.kind === 'quota') {
          this.exhausted.add(provider.name);
          return { ok: false, reason, usage };
        }
        // Several workers may hit this at once: each retries in json_object, once.
        if (error.kind === 'format_unsupported' && mode === 'json_schema' && provider.canFallBackToJsonObject) {
          provider.mode = 'json_object';
          continue;
        }
        // Only a one-row question is evidence: a packed request's 400 names no row, and its rows are asked alone next.
        if (error.kind === 'rejected' && error.status === 400 && question.judged) {
          const verdict = this.options.judge?.refused(provider, error, questionKey(question.messages));
          if (verdict) {
            // Every row gets this 400 from this provider: dropped like a refused key; a fallback carries on.
            this.drop(provider, verdict);
            return { ok: false, reason, usage };
          }
        }
        if (!error.retryable) return { ok: false, reason, usage };
        attempt++;
        if (attempt > this.options.maxRetries) break;
        this.options.onRetry?.({ provider: provider.name, attempt, reason, waitMs });
        if (error.kind !== 'rate_limit') await sleep(waitMs, signal);
        continue;
      }
      gate.leave(ticket, { kind: 'answered', promptTokens: completion.usage.promptTokens }, completion.headers);
      add(usage, completion.usage);
      this.options.onCall?.(provider, completion.usage, completion.billed);
      if (completion.finishReason === 'length' && maxTokens < fullCap) {
        // Cut at the learned cap: asked again at once at the full one, not counted as a retry
        // (the row did nothing wrong); its size is learned from that answer.
        atFullCap = true;
        this.options.onAskedAgain?.(provider);
        continue;
      }
      // A cut answer's size says only "at least the cap": learned as the cap (the tail grows).
      if (sizesOf && completion.usage.completionTokens > 0) this.options.answerSizes?.reserve.observe(sizesOf, completion.usage.completionTokens, atFullCap);
      const problem = completionProblem(completion);
      const parsed = problem === undefined ? question.parse(completion.content) : { ok: false as const, problem };
      if (parsed.ok) {
        this.options.judge?.answered(provider);
        return { ok: true, value: parsed.value, provider: provider.name, model: provider.model, usage };
      }
      // A bad answer is retried at once, showing the model what was wrong with it.
      reason = `${provider.name}: ${parsed.problem}`;
      conversation = repair(question.messages, completion.content, parsed.problem);
      attempt++;
      if (attempt <= this.options.maxRetries) this.options.onRetry?.({ provider: provider.name, attempt, reason, waitMs: 0 });
    }
    return { ok: false, reason: `${reason} (gave up after ${plural(this.options.maxRetries, 'retry', 'retries')})`, usage };
  }
}

/** A provider's model, for what is refused per model (a 403) rather than per key. */
function modelKey(provider: Provider): string {
  return `${provider.name}\u0000${provider.model}`;
}

interface Question<T> {
  messages: ChatMessage[];
  /** Rows in the request: the answer may be that many times longer. */
  rows: number;
  schema: ResponseSchema;
  parse: (content: string | null) => { ok: true; value: T } | { ok: false; problem: string };
  /** One row's question: its 400 is evidence for the refusal judge (a packed one's is not). */
  judged?: boolean;
}

/** A question's content, for the judge to count distinct rows (two rows alike are one). */
function questionKey(messages: readonly ChatMessage[]): string {
  return createHash('sha256').update(JSON.stringify(messages)).digest('base64url');
}

type Asked<T> = { ok: true; value: T; provider: string; model: string; usage: Usage } | { ok: false; reason: string; usage: Usage };

/** Each row of a packed request is charged an equal share of it. */
function splitUsage(usage: Usage, rows: number): Usage {
  const n = Math.max(1, rows);
  return { promptTokens: Math.round(usage.promptTokens / n), completionTokens: Math.round(usage.completionTokens / n), cachedTokens: Math.round(usage.cachedTokens / n) };
}

function completionProblem(completion: { refusal: string | null; finishReason: string }): string | undefined {
  if (completion.refusal) return `the model refused to answer (${clipText(completion.refusal, 200)})`;
  if (completion.finishReason === 'length') return 'the answer was cut off at max_completion_tokens';
  if (completion.finishReason === 'content_filter') return 'the answer was blocked by the content filter';
  return undefined;
}

function repair(messages: ChatMessage[], previous: string | null, problem: string): ChatMessage[] {
  return [
    ...messages,
    { role: 'assistant', content: (previous ?? '').slice(0, 4000) },
    { role: 'user', content: `That answer could not be used: ${problem}. Answer again with only the JSON object described above, every key present, is_valid a JSON boolean.` },
  ];
}

function add(total: Usage, more: Usage): void {
  total.promptTokens += more.promptTokens;
  total.completionTokens += more.completionTokens;
  total.cachedTokens += more.cachedTokens;
}
