import { FatalRunError, LlmError } from '../errors.js';
import { backoffDelay, sleep, type BackoffOptions } from '../retry/index.js';
import type { RowInputs } from '../sheets/index.js';
import { parseAnswer } from './answer.js';
import type { ProviderGate } from './gate.js';
import { buildMessages, type ChatMessage, type PromptRules } from './prompt.js';
import type { Completion, Provider, Usage } from './provider.js';
import { decideVerdict, type Verdict } from './verdict.js';

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
  onCall?: (provider: string, usage: Usage) => void;
}

const zeroUsage = (): Usage => ({ promptTokens: 0, completionTokens: 0, cachedTokens: 0 });

/**
 * Gets one row's verdict: tries each provider in order, retrying transient failures
 * with backoff and bad answers with a repair hint. A row that cannot be answered ends
 * as an `error` outcome; only failures that doom every row (a bad key, no quota
 * anywhere) throw, as FatalRunError.
 */
export class Validator {
  private readonly exhausted = new Set<string>();

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
    const usage = zeroUsage();
    const messages = buildMessages(inputs, this.options.rules, this.options.today);
    const reasons: string[] = [];
    for (const provider of this.providers) {
      if (this.exhausted.has(provider.name)) continue;
      const result = await this.tryProvider(provider, messages, inputs, usage, signal);
      if (result.kind === 'verdict') return result;
      reasons.push(result.reason);
    }
    if (this.providers.every((p) => this.exhausted.has(p.name))) {
      throw new FatalRunError(`No provider can answer: ${reasons.at(-1) ?? 'every provider is out of quota'}.`, {
        hint: 'Add credit to the provider account, or configure a fallback provider under llm.providers.',
      });
    }
    return { kind: 'error', reason: reasons.join(' Then: '), usage };
  }

  private async tryProvider(provider: Provider, messages: ChatMessage[], inputs: RowInputs, usage: Usage, signal?: AbortSignal): Promise<Outcome> {
    const gate = this.options.gates.get(provider.name) as ProviderGate;
    let conversation = messages;
    let reason = '';
    for (let attempt = 0; attempt <= this.options.maxRetries; ) {
      const mode = provider.mode;
      const tokens = gate.metersTokens ? (await this.options.estimate(conversation)) + this.options.maxCompletionTokens : 0;
      const ticket = await gate.enter(tokens, signal);
      let completion: Completion;
      try {
        completion = await provider.complete(conversation, signal);
      } catch (error) {
        if (!(error instanceof LlmError)) {
          gate.leave(ticket, { kind: 'failed' });
          throw error;
        }
        const waitMs = error.retryAfterMs ?? backoffDelay(attempt, this.options.backoff);
        // A 429 pauses every worker of this provider (the gate's shared cool-down).
        gate.leave(ticket, error.kind === 'rate_limit' ? { kind: 'rate_limited', waitMs } : { kind: 'failed' }, error.headers);
        this.options.onCall?.(provider.name, zeroUsage());
        reason = error.message;
        if (error.kind === 'auth') throw new FatalRunError(error.message, { hint: error.hint ?? 'Fix the API key and run again.', cause: error });
        if (error.kind === 'quota') {
          this.exhausted.add(provider.name);
          return { kind: 'error', reason, usage };
        }
        // Several workers may hit this at once: each retries in json_object, once.
        if (error.kind === 'format_unsupported' && mode === 'json_schema' && provider.config.structured_outputs === 'auto') {
          provider.mode = 'json_object';
          continue;
        }
        if (!error.retryable) return { kind: 'error', reason, usage };
        attempt++;
        if (attempt > this.options.maxRetries) break;
        this.options.onRetry?.({ provider: provider.name, attempt, reason, waitMs });
        if (error.kind !== 'rate_limit') await sleep(waitMs, signal);
        continue;
      }
      gate.leave(ticket, { kind: 'answered', totalTokens: completion.usage.promptTokens + completion.usage.completionTokens }, completion.headers);
      add(usage, completion.usage);
      this.options.onCall?.(provider.name, completion.usage);
      const problem = completionProblem(completion);
      const parsed = problem === undefined ? parseAnswer(completion.content) : { ok: false as const, problem };
      if (parsed.ok) {
        return { kind: 'verdict', provider: provider.name, model: provider.model, usage, ...decideVerdict(parsed.answer, inputs, this.options.allowedStatuses) };
      }
      // A bad answer is retried at once, showing the model what was wrong with it.
      reason = `${provider.name}: ${parsed.problem}`;
      conversation = repair(messages, completion.content, parsed.problem);
      attempt++;
      if (attempt <= this.options.maxRetries) this.options.onRetry?.({ provider: provider.name, attempt, reason, waitMs: 0 });
    }
    return { kind: 'error', reason: `${reason} (gave up after ${this.options.maxRetries} retries)`, usage };
  }
}

function completionProblem(completion: { refusal: string | null; finishReason: string }): string | undefined {
  if (completion.refusal) return `the model refused to answer (${completion.refusal.slice(0, 200)})`;
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
