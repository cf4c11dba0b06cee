import { createHash } from 'node:crypto';
import { LlmError } from '../errors.js';
import { backoffDelay, sleep, type BackoffOptions } from '../retry/index.js';
import type { ServiceTier } from '../config/index.js';
import type { ResponseSchema } from './answer.js';
import { clipText } from './clip.js';
import type { ProviderGate, Ticket } from './gate.js';
import type { ChatMessage } from './prompt.js';
import type { Completion, Provider, Usage } from './provider.js';
import type { AnswerSizesOf } from './reserve.js';
import type { ProviderStanding } from './standing.js';
import { addUsage, zeroUsage } from './usage.js';
import type { ValidatorOptions } from './validator-options.js';
import { plural } from '../plural.js';

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

export interface Question<T> {
  messages: ChatMessage[];
  /** Rows in the request: the answer may be that many times longer. */
  rows: number;
  schema: ResponseSchema;
  parse: (content: string | null) => { ok: true; value: T } | { ok: false; problem: string };
  /** One row's question: its 400 is evidence for the refusal judge (a packed one's is not). */
  judged?: boolean;
}

export type Unanswered = { ok: false; reason: string; usage: Usage };
export type Asked<T> = { ok: true; value: T; provider: string; model: string; usage: Usage } | Unanswered;

/** What one provider's attempts use of the validator: its options, and which providers the run can still ask. */
export interface AttemptsContext {
  options: ValidatorOptions;
  standing: ProviderStanding;
}

/**
 * Asks one provider one question until it answers usably: transient failures are retried
 * with backoff, bad answers with a repair hint, connection failures and flex refusals apart
 * from max_retries. The usage of every answer is added to `usage`.
 */
export function askProvider<T>(context: AttemptsContext, provider: Provider, question: Question<T>, usage: Usage, signal?: AbortSignal): Promise<Asked<T>> {
  return new Attempts(context, provider, question, usage, signal).run();
}

/** What follows an attempt: another one, or the end of this provider's attempts with its result. */
type Step<T> = Asked<T> | 'again';

/** One provider's attempts at one question, and what they learned so far. */
class Attempts<T> {
  private readonly options: ValidatorOptions;
  private readonly standing: ProviderStanding;
  private readonly gate: ProviderGate;
  private readonly sizesOf: AnswerSizesOf | undefined;
  private conversation: ChatMessage[];
  private reason = '';
  private attempt = 0;
  private connectRetries = 0;
  // Flex refused for capacity FLEX_RETRIES + 1 times: this question goes at auto from then on.
  private flexRefusals = 0;
  private tier: ServiceTier | undefined;
  // Once an answer was cut at the learned cap, this question asks for the full cap.
  private atFullCap = false;

  constructor(
    context: AttemptsContext,
    private readonly provider: Provider,
    private readonly question: Question<T>,
    private readonly usage: Usage,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.options = context.options;
    this.standing = context.standing;
    this.gate = this.options.gates.get(provider.name) as ProviderGate;
    this.sizesOf = answerSizesOf(this.options, provider, question.rows);
    this.conversation = question.messages;
  }

  async run(): Promise<Asked<T>> {
    while (this.attempt <= this.options.maxRetries) {
      const step = await this.tryOnce();
      if (step !== 'again') return step;
    }
    return this.gaveUp();
  }

  private async tryOnce(): Promise<Step<T>> {
    // Given up by another request meanwhile: this one goes on to the next provider.
    const down = this.standing.outage(this.provider);
    if (down) return this.failed(down.message);
    const mode = this.provider.mode;
    const fullCap = Math.min(100_000, this.provider.outputCap ?? Infinity, this.options.maxCompletionTokens * this.question.rows);
    const ticket = await this.enterGate(fullCap);
    const maxTokens = ticket.completion > 0 ? Math.min(fullCap, ticket.completion) : fullCap;
    const serviceTier = this.tierToSend();
    let completion: Completion;
    try {
      completion = await this.provider.complete(this.conversation, this.signal, this.question.schema, maxTokens, { serviceTier, onWritten: this.options.onSent });
    } catch (error) {
      return this.afterFailure(error, ticket, mode);
    }
    return this.afterAnswer(completion, ticket, maxTokens < fullCap);
  }

  /** Waits for the gate to let the request leave, reserving its prompt and the answer's tokens. */
  private enterGate(fullCap: number): Promise<Ticket> {
    // Estimated only once the gate meters tokens (it may learn to while this waits for a slot).
    // Only then is the learned size asked for: without a token budget a lower cap saves
    // nothing and risks a cut answer (Ollama, a local vLLM, a provider that states no limit).
    // Decided when the request leaves the gate, not when it joins the queue: the answers
    // that arrived while it waited count.
    const sizesOf = this.sizesOf;
    const sizes = sizesOf && !this.atFullCap ? this.options.answerSizes?.reserve : undefined;
    return this.gate.enter(async () => {
      if (sizes && sizesOf) await sizes.load(sizesOf);
      const prompt = await this.options.estimate(this.conversation);
      return sizes && sizesOf ? { prompt, completion: fullCap, completionAtDeparture: () => sizes.reserveNow(sizesOf, fullCap) } : { prompt, completion: fullCap };
    }, this.signal);
  }

  /** The service tier this attempt is sent at (auto once flex refused too often), told when it is flex. */
  private tierToSend(): ServiceTier | undefined {
    const tier = this.tier ?? this.provider.serviceTier;
    if (tier === 'flex') this.options.onFlex?.('sent', this.provider);
    return tier;
  }

  private async afterFailure(error: unknown, ticket: Ticket, mode: Provider['mode']): Promise<Step<T>> {
    if (!(error instanceof LlmError)) {
      this.gate.leave(ticket, { kind: 'failed' });
      throw error;
    }
    if (error.kind === 'unreachable') return this.afterUnreachable(error, ticket);
    if (error.kind === 'flex_capacity') return this.afterFlexRefusal(error, ticket);
    return this.afterError(error, ticket, mode);
  }

  /** The request never reached the provider: tried again soon, a few times, then the provider is given up. */
  private async afterUnreachable(error: LlmError, ticket: Ticket): Promise<Step<T>> {
    this.gate.leave(ticket, { kind: 'failed' });
    this.options.onConnectionFailure?.(this.provider, error);
    if (this.connectRetries >= CONNECT_RETRIES) {
      this.standing.giveUp(this.provider, error);
      return this.failed(error.message);
    }
    await sleep(backoffDelay(this.connectRetries++, CONNECT_BACKOFF), this.signal);
    return 'again';
  }

  private async afterFlexRefusal(error: LlmError, ticket: Ticket): Promise<Step<T>> {
    // Not a rate limit: no shared cool-down, no limit corrected, nothing learned from its headers.
    this.gate.leave(ticket, { kind: 'failed' });
    this.options.onCall?.(this.provider, zeroUsage(), 'standard', 'failed');
    this.options.onFlex?.('refused', this.provider);
    this.reason = error.message;
    if (this.flexRefusals >= FLEX_RETRIES) {
      this.tier = 'auto';
      this.options.onFlex?.('fell_back', this.provider);
      return 'again';
    }
    const flexWaitMs = error.retryAfterMs ?? backoffDelay(this.flexRefusals, this.options.backoff);
    this.flexRefusals++;
    this.options.onRetry?.({ provider: this.provider.name, attempt: this.flexRefusals, reason: this.reason, waitMs: flexWaitMs });
    await sleep(flexWaitMs, this.signal);
    return 'again';
  }

  /** The provider answered with an error: the provider is left out, the format changed, or the request retried. */
  private async afterError(error: LlmError, ticket: Ticket, mode: Provider['mode']): Promise<Step<T>> {
    const waitMs = error.retryAfterMs ?? backoffDelay(this.attempt, this.options.backoff);
    // A 429 pauses every worker of this provider (the gate's shared cool-down).
    this.gate.leave(ticket, error.kind === 'rate_limit' ? { kind: 'rate_limited', waitMs } : { kind: 'failed' }, error.headers);
    this.options.onCall?.(this.provider, zeroUsage(), 'standard', error.kind === 'rate_limit' ? 'rate_limited' : 'failed');
    this.reason = error.message;
    const settled = this.settleError(error, mode);
    if (settled) return settled;
    return this.retryAfter(error, waitMs);
  }

  /** An error that ends this provider's attempts (it is left out, or the error is final) or changes the format; undefined: retry. */
  private settleError(error: LlmError, mode: Provider['mode']): Step<T> | undefined {
    if (error.kind === 'auth' || error.kind === 'config') {
      this.standing.drop(this.provider, error);
      return this.failed(this.reason);
    }
    if (error.kind === 'quota') {
      this.standing.exhaust(this.provider);
      return this.failed(this.reason);
    }
    // Several workers may hit this at once: each retries in json_object, once.
    if (error.kind === 'format_unsupported' && mode === 'json_schema' && this.provider.canFallBackToJsonObject) {
      this.provider.mode = 'json_object';
      return 'again';
    }
    if (this.refusedForEveryRow(error)) return this.failed(this.reason);
    if (!error.retryable) return this.failed(this.reason);
    return undefined;
  }

  /** Whether the refusal judge finds this 400 is one every row gets from this provider (then the provider is dropped). */
  private refusedForEveryRow(error: LlmError): boolean {
    // Only a one-row question is evidence: a packed request's 400 names no row, and its rows are asked alone next.
    if (error.kind !== 'rejected' || error.status !== 400 || !this.question.judged) return false;
    const verdict = this.options.judge?.refused(this.provider, error, questionKey(this.question.messages));
    if (!verdict) return false;
    // Every row gets this 400 from this provider: dropped like a refused key; a fallback carries on.
    this.standing.drop(this.provider, verdict);
    return true;
  }

  /** A transient error counts against max_retries; a 429 waits in the gate's cool-down, others wait here. */
  private async retryAfter(error: LlmError, waitMs: number): Promise<Step<T>> {
    this.attempt++;
    if (this.attempt > this.options.maxRetries) return this.gaveUp();
    this.options.onRetry?.({ provider: this.provider.name, attempt: this.attempt, reason: this.reason, waitMs });
    if (error.kind !== 'rate_limit') await sleep(waitMs, this.signal);
    return 'again';
  }

  private afterAnswer(completion: Completion, ticket: Ticket, belowFullCap: boolean): Step<T> {
    this.gate.leave(ticket, { kind: 'answered', promptTokens: completion.usage.promptTokens }, completion.headers);
    addUsage(this.usage, completion.usage);
    this.options.onCall?.(this.provider, completion.usage, completion.billed);
    if (completion.finishReason === 'length' && belowFullCap) {
      // Cut at the learned cap: asked again at once at the full one, not counted as a retry
      // (the row did nothing wrong); its size is learned from that answer.
      this.atFullCap = true;
      this.options.onAskedAgain?.(this.provider);
      return 'again';
    }
    // A cut answer's size says only "at least the cap": learned as the cap (the tail grows).
    if (this.sizesOf && completion.usage.completionTokens > 0) this.options.answerSizes?.reserve.observe(this.sizesOf, completion.usage.completionTokens, this.atFullCap);
    const problem = completionProblem(completion);
    const parsed = problem === undefined ? this.question.parse(completion.content) : { ok: false as const, problem };
    if (parsed.ok) {
      this.options.judge?.answered(this.provider);
      return { ok: true, value: parsed.value, provider: this.provider.name, model: this.provider.model, usage: this.usage };
    }
    return this.repairNext(completion.content, parsed.problem);
  }

  /** A bad answer is retried at once, showing the model what was wrong with it. */
  private repairNext(content: string | null, problem: string): Step<T> {
    this.reason = `${this.provider.name}: ${problem}`;
    this.conversation = repair(this.question.messages, content, problem);
    this.attempt++;
    if (this.attempt <= this.options.maxRetries) this.options.onRetry?.({ provider: this.provider.name, attempt: this.attempt, reason: this.reason, waitMs: 0 });
    return 'again';
  }

  private failed(reason: string): Unanswered {
    return { ok: false, reason, usage: this.usage };
  }

  private gaveUp(): Unanswered {
    return this.failed(`${this.reason} (gave up after ${plural(this.options.maxRetries, 'retry', 'retries')})`);
  }
}

/** Which answer sizes a question of `rows` rows to this provider learns and reserves by. */
function answerSizesOf(options: ValidatorOptions, provider: Provider, rows: number): AnswerSizesOf | undefined {
  const sizes = options.answerSizes;
  if (!sizes?.reserve.enabled) return undefined;
  return { provider: provider.config.base_url, model: provider.model, prompt: `${sizes.prompt}/rows-${rows}` };
}

/** A question's content, for the judge to count distinct rows (two rows alike are one). */
function questionKey(messages: readonly ChatMessage[]): string {
  return createHash('sha256').update(JSON.stringify(messages)).digest('base64url');
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
