import { randomBytes } from 'node:crypto';

import type { BatchLineAnswer } from './batches.js';
import { errorBody, errorOutcome, type Outcome } from './errors.js';
import { FaultQueue, faultOutcome } from './faults.js';
import type { EmulatorProfile } from './profiles.js';
import { DEFAULT_COMPLETION_BUDGET, RateLimiter } from './ratelimit.js';
import { defaultVerdict, extractRow, extractRows, toContent } from './responder.js';
import type { ChatRequest, Fault, OpenAIEmulatorOptions, RecordedRequest, RecordedUsage, RespondFn, RowInput } from './types.js';
import { capOf, sizeAnswer } from './length.js';
import { buildUsage, estimateTokens, PromptCache, promptText, usageBody } from './usage.js';
import { asChatRequest, checkAuth, checkRequest, parseJsonBody } from './validate.js';

// POST /v1/chat/completions as the "model" answers it: auth, faults, the profile's refusals,
// request checks, rate limits, the responder, and usage with simulated prompt caching. Batch
// lines are answered by the same code (minus latency and rate limits).

export function newId(prefix: string): string {
  return prefix + randomBytes(12).toString('hex');
}

/** The key as "Bearer <key>", from the header this provider takes it in. */
export function authorization(profile: EmulatorProfile | undefined, record: RecordedRequest): string | undefined | null {
  return profile ? profile.authorization(record.headers) : record.headers.authorization;
}

/** The chat model's settings a test may change; reset() restores the start options. */
export class ChatModel {
  readonly faults = new FaultQueue();
  readonly cache: PromptCache;
  respond: RespondFn;
  limiter: RateLimiter | undefined;
  supportsJsonSchema: boolean;

  constructor(
    private readonly opts: OpenAIEmulatorOptions,
    private readonly profile: EmulatorProfile | undefined,
    private readonly now: () => number,
  ) {
    this.cache = new PromptCache(opts.promptCacheKeyRpm ?? Infinity, this.now);
    this.respond = opts.respond ?? defaultVerdict;
    this.limiter = opts.rateLimit ? new RateLimiter(opts.rateLimit, this.now) : undefined;
    this.supportsJsonSchema = opts.supportsJsonSchema ?? true;
  }

  setRateLimit(limits: OpenAIEmulatorOptions['rateLimit']): void {
    this.limiter = limits ? new RateLimiter(limits, this.now) : undefined;
  }

  reset(): void {
    this.faults.clear();
    this.cache.clear();
    this.respond = this.opts.respond ?? defaultVerdict;
    this.setRateLimit(this.opts.rateLimit);
    this.supportsJsonSchema = this.opts.supportsJsonSchema ?? true;
  }

  /** What a request to `record.path` gets: a 404 off the chat path, else the chat outcome. */

  async decide(record: RecordedRequest, raw: string, isChat: boolean): Promise<Outcome> {
    if (!isChat) {
      return errorOutcome(404, { message: `Invalid URL (${record.method} ${record.path})`, type: 'invalid_request_error' });
    }
    const key = authorization(this.profile, record);
    if (this.opts.authorize) {
      const denied = this.opts.authorize(key ?? undefined);
      if (denied) return { kind: 'error', status: denied.status, body: denied.body };
    } else if (this.opts.apiKey !== undefined && key !== null) {
      const denied = checkAuth(key, this.opts.apiKey);
      if (denied) return this.profile?.wrongKey?.() ?? denied;
    }
    const parsed = parseJsonBody(raw);
    if (!parsed.ok) return parsed.outcome;
    record.body = parsed.value;
    const chat = asChatRequest(parsed.value);
    if (!isChatRequest(chat)) return chat;
    record.model = chat.model;
    const cap = capOf(chat, this.profile);
    if (cap !== undefined) record.cap = cap;
    if (typeof chat.prompt_cache_key === 'string') record.promptCacheKey = chat.prompt_cache_key;
    const row = extractRow(chat);
    if (row !== undefined) record.row = row;

    const fault = this.faults.take(row, chat);
    if (fault?.kind === 'rate_limit' && this.profile) {
      return { ...this.profile.rateLimited(fault.retryAfterMs ?? (fault.retryAfterSeconds ?? 1) * 1000), fault: 'rate_limit' };
    }
    if (fault?.kind === 'flex_unavailable' && this.profile?.name === 'groq') {
      // Groq's flex when full: "requests will fail quickly with status 498 and error
      // capacity_exceeded" (https://console.groq.com/docs/flex-processing).
      return { ...errorOutcome(498, { message: 'Flex tier capacity exceeded. This is a temporary condition: retry with backoff, or use the on_demand tier.', type: 'capacity_exceeded', code: 'capacity_exceeded' }), fault: 'flex_unavailable' };
    }
    if (fault !== undefined) {
      const outcome = faultOutcome(fault, row, chat.model);
      if (outcome.kind === 'completion') this.complete(record, chat, outcome);
      return outcome;
    }

    if (this.profile && this.opts.models !== undefined && !this.opts.models.includes(chat.model)) return this.profile.modelNotFound(chat.model);
    const refused = this.refusal(chat);
    if (refused) return refused;
    const rejected = checkRequest(chat, { models: this.opts.models, supportsJsonSchema: this.supportsJsonSchema, outputCaps: this.opts.outputCaps });
    if (rejected) return rejected;

    if (this.limiter) {
      const budget = chat.max_completion_tokens ?? chat.max_tokens ?? DEFAULT_COMPLETION_BUDGET;
      const cost = estimateTokens(promptText(chat.messages).length) + budget;
      const decision = this.limiter.admit(cost, chat.model);
      if (!decision.ok && this.profile) return { ...this.profile.rateLimited(decision.retryAfterMs), fault: `rate_limit:${decision.type}` };
      if (!decision.ok) {
        return {
          ...errorOutcome(
            429,
            { message: decision.message, type: decision.type, code: 'rate_limit_exceeded' },
            {
              'retry-after': String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000))),
              'retry-after-ms': String(Math.max(0, Math.ceil(decision.retryAfterMs))),
            },
          ),
          fault: `rate_limit:${decision.type}`,
        };
      }
    }

    let content: string;
    try {
      content = await this.answerFor(row, chat);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return errorOutcome(500, { message: `emulator respond() threw: ${message}`, type: 'server_error' });
    }
    const outcome = this.sized(content, row, chat);
    this.complete(record, chat, outcome);
    return outcome;
  }

  /**
   * The "model's" answer: the responder's verdict for the row, or for a packed request
   * one result per labelled row (rows whose responder answer is raw text are left out).
   */
  private async answerFor(row: RowInput | undefined, chat: ChatRequest): Promise<string> {
    const rows = extractRows(chat);
    if (!rows) return toContent(await this.respond(row ?? {}, chat));
    const results: unknown[] = [];
    for (const r of rows) {
      const answer = await this.respond(r, chat);
      if (typeof answer !== 'string') results.push({ row: r.row, ...answer });
    }
    return JSON.stringify({ results });
  }

  /** The answer as long as the "model" made it, cut at the request's cap (./length.ts). */
  private sized(content: string, row: RowInput | undefined, chat: ChatRequest): Extract<Outcome, { kind: 'completion' }> {
    const sized = sizeAnswer(content, chat, this.profile, this.opts.answerTokens?.(row ?? {}, chat));
    return { kind: 'completion', content: sized.content, finishReason: sized.finishReason, tokens: { completion: sized.completionTokens, reasoning: sized.reasoningTokens } };
  }

  /** Usage (with simulated prompt caching) for an answer the "model" produced. */
  private complete(record: RecordedRequest, chat: ChatRequest, outcome: Extract<Outcome, { kind: 'completion' }>): void {
    record.usage = this.usageFor(chat, outcome);
    const tier = servedTier(chat, this.profile?.name);
    if (tier !== undefined) record.serviceTier = tier;
    record.content = outcome.content;
    record.finishReason = outcome.finishReason;
    if (outcome.fault !== undefined) record.fault = outcome.fault;
  }

  private usageFor(chat: ChatRequest, outcome: Extract<Outcome, { kind: 'completion' }>): RecordedUsage {
    const prompt = promptText(chat.messages);
    const promptTokens = estimateTokens(prompt.length);
    const key = typeof chat.prompt_cache_key === 'string' ? chat.prompt_cache_key : undefined;
    const cached = this.profile?.cachedTokens === false ? 0 : this.cache.lookup(key, prompt);
    const produced = outcome.content ?? outcome.refusal ?? '';
    return buildUsage(promptTokens, produced.length, cached, outcome.tokens);
  }

  /** What the profile refuses in this request, the fields this deployment knows (`acceptedFields`) set aside. */
  private refusal(chat: ChatRequest): Outcome | undefined {
    const accepted = this.opts.acceptedFields;
    if (!this.profile || !accepted || accepted.length === 0) return this.profile?.refuse(chat);
    const known = Object.fromEntries(Object.entries(chat).filter(([field]) => !accepted.includes(field))) as ChatRequest;
    return this.profile.refuse(known);
  }

  /** One batch line, answered as POST /v1/chat/completions would be (minus latency and rate limits). */
  async answerBatchLine(
    body: Record<string, unknown>,
    takeFault: (row: RowInput | undefined, chat: ChatRequest) => Fault | undefined,
  ): Promise<BatchLineAnswer> {
    const chat = asChatRequest(body);
    if (!isChatRequest(chat)) return lineAnswer(chat);
    const row = extractRow(chat);
    const fault = takeFault(row, chat);
    let outcome: Outcome | undefined = fault === undefined ? undefined : faultOutcome(fault, row, chat.model);
    // A line's body is a chat request like any other: what the provider refuses in one, it
    // refuses here too, and the line ends in the error file (https://platform.openai.com/docs/guides/batch).
    outcome ??= this.refusal(chat);
    outcome ??= checkRequest(chat, { models: this.opts.models, supportsJsonSchema: this.supportsJsonSchema, outputCaps: this.opts.outputCaps });
    if (outcome === undefined) {
      try {
        outcome = this.sized(await this.answerFor(row, chat), row, chat);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        outcome = errorOutcome(500, { message: `emulator respond() threw: ${message}`, type: 'server_error' });
      }
    }
    if (outcome.kind !== 'completion') return lineAnswer(outcome);
    const usage = this.usageFor(chat, outcome);
    return { status: 200, body: chatCompletionBody(chat.model, usage, outcome, 'default'), usage };
  }
}

/** A chat.completion body for an answer. */
/**
 * The tier OpenAI says served a request: the one asked for flex and priority, "default" for
 * auto, default or none (a project whose default tier is standard). The answer names it in
 * `service_tier` (https://platform.openai.com/docs/api-reference/chat/object). Groq names
 * its own (flex, else on_demand: https://console.groq.com/docs/service-tiers); the other
 * profiles have no tiers and say none.
 */
export function servedTier(chat: ChatRequest, profile: string | undefined): string | undefined {
  if (profile === 'groq') return chat.service_tier === 'flex' ? 'flex' : 'on_demand';
  if (profile !== undefined && profile !== 'openai' && profile !== 'generic') return undefined;
  return chat.service_tier === 'flex' || chat.service_tier === 'priority' ? chat.service_tier : 'default';
}

export function chatCompletionBody(model: string, usage: RecordedUsage, outcome: Extract<Outcome, { kind: 'completion' }>, serviceTier: string | undefined = 'default'): unknown {
  return {
    id: newId('chatcmpl-'),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        finish_reason: outcome.finishReason,
        logprobs: null,
        message: { role: 'assistant', content: outcome.content, refusal: outcome.refusal ?? null, annotations: [] },
      },
    ],
    usage: usageBody(usage),
    ...(serviceTier === undefined ? {} : { service_tier: serviceTier }),
    system_fingerprint: 'fp_emulator',
  };
}

/** A batch line's answer for an outcome that is not a completion (reset / hang become a 500). */
function lineAnswer(outcome: Outcome): BatchLineAnswer {
  if (outcome.kind === 'error') return { status: outcome.status, body: outcome.body };
  return {
    status: 500,
    body: errorBody({ message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error' }),
  };
}

function isChatRequest(value: ChatRequest | Outcome): value is ChatRequest {
  return 'messages' in value;
}
