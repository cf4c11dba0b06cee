import { messageText } from './responder.js';
import type { ChatMessage, RecordedUsage } from './types.js';

/** Roughly 4 characters per token, as OpenAI's rule of thumb. */
export const CHARS_PER_TOKEN = 4;
/** Prompt caching only kicks in from this many shared prefix tokens… */
export const MIN_CACHED_PREFIX_TOKENS = 1024;
/** …and is counted in blocks of this many tokens. */
export const CACHE_BLOCK_TOKENS = 128;

export function estimateTokens(chars: number): number {
  return Math.ceil(chars / CHARS_PER_TOKEN);
}

/** The concatenated message texts (what prompt tokens and cache prefixes are computed from). */
export function promptText(messages: readonly ChatMessage[]): string {
  let out = '';
  for (const m of messages) out += messageText(m);
  return out;
}

function commonPrefixLength(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

/**
 * Simulates provider prompt caching. Only the last prompt per `prompt_cache_key` is kept, so each
 * request costs one prefix comparison regardless of history length. Requests without a key are
 * never cached.
 */
export class PromptCache {
  private readonly lastPromptByKey = new Map<string, string>();
  private readonly recentByKey = new Map<string, number[]>();

  /**
   * @param perKeyRpm like OpenAI, one key is served by one cache machine up to about this
   * many requests a minute; requests past it overflow to machines without the prefix
   * (no cached tokens). Unlimited when not given.
   */
  constructor(
    private readonly perKeyRpm = Infinity,
    private readonly now: () => number = Date.now,
  ) {}

  /** Cached tokens for this prompt, then remembers it as the key's latest prompt. */
  lookup(key: string | undefined, prompt: string): number {
    if (key === undefined) return 0;
    if (this.overflows(key)) return 0;
    const previous = this.lastPromptByKey.get(key);
    this.lastPromptByKey.set(key, prompt);
    if (previous === undefined) return 0;
    const prefixTokens = Math.floor(commonPrefixLength(previous, prompt) / CHARS_PER_TOKEN);
    if (prefixTokens < MIN_CACHED_PREFIX_TOKENS) return 0;
    return Math.floor(prefixTokens / CACHE_BLOCK_TOKENS) * CACHE_BLOCK_TOKENS;
  }

  private overflows(key: string): boolean {
    if (!Number.isFinite(this.perKeyRpm)) return false;
    const t = this.now();
    const recent = (this.recentByKey.get(key) ?? []).filter((at) => at > t - 60_000);
    recent.push(t);
    this.recentByKey.set(key, recent);
    return recent.length > this.perKeyRpm;
  }

  clear(): void {
    this.lastPromptByKey.clear();
    this.recentByKey.clear();
  }
}

export function buildUsage(promptTokens: number, completionChars: number, cachedTokens: number, generated?: { completion: number; reasoning: number }): RecordedUsage {
  const completionTokens = generated?.completion ?? estimateTokens(completionChars);
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    cached_tokens: Math.min(cachedTokens, promptTokens),
    ...(generated ? { reasoning_tokens: generated.reasoning } : {}),
  };
}

/** The `usage` object of a chat.completion body. */
export function usageBody(usage: RecordedUsage): Record<string, unknown> {
  return {
    prompt_tokens: usage.prompt_tokens,
    completion_tokens: usage.completion_tokens,
    total_tokens: usage.total_tokens,
    prompt_tokens_details: { cached_tokens: usage.cached_tokens, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: usage.reasoning_tokens ?? 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}
