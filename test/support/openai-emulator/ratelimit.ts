import type { RateLimitOptions } from './types.js';

/**
 * OpenAI states its per-minute limits but meters them over shorter periods: "Rate limits
 * can be quantized, meaning they are enforced over shorter periods of time (e.g. 60,000
 * requests/minute may be enforced as 1,000 requests/second). Sending short bursts of
 * requests [...] can lead to rate limit errors, even when you are technically below the
 * rate limit per minute." (platform.openai.com/docs/guides/rate-limits, as quoted at
 * community.openai.com/t/rate-limit-even-though-limit-not-breached/611241/6). The same
 * guide says unsuccessful requests contribute to the per-minute limit, so resending in a
 * loop does not work. So the default window is one second; a full minute is an option.
 */
export const DEFAULT_WINDOW_MS = 1_000;
/** The full-minute mode (the whole minute's budget may leave at once): only on request. */
export const MINUTE_MS = 60_000;
/** Token cost assumed for the completion when the request sets no max_completion_tokens. */
export const DEFAULT_COMPLETION_BUDGET = 200;

/** Go's time.Duration.String() style used by OpenAI's x-ratelimit-reset-* headers: 6m0s, 1s, 1.5s, 12ms. */
export function formatGoDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms));
  if (total === 0) return '0s';
  if (total < 1000) return `${total}ms`;
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const secondsMs = total % 60_000;
  const seconds = secondsMs % 1000 === 0 ? String(secondsMs / 1000) : (secondsMs / 1000).toFixed(3).replace(/0+$/, '');
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

export type RateDecision =
  | { ok: true }
  | {
      ok: false;
      type: 'requests' | 'tokens';
      /** When the request would fit; 0 when it never can (larger than the whole budget: waiting will not help). */
      retryAfterMs: number;
      message: string;
    };

/**
 * One per-minute limit metered over a window: a bucket holding the window's share of the
 * limit (limit × window / 1 min) that refills continuously at the per-minute rate. A new
 * bucket is full. A request costing more than the share (but not more than the
 * per-minute limit) is admitted when the bucket is full and leaves it in debt.
 */
class WindowBucket {
  private level: number;
  private updated: number;
  readonly capacity: number;
  private readonly perMs: number;

  constructor(
    readonly perMinute: number,
    readonly windowMs: number,
    at: number,
  ) {
    this.capacity = (perMinute * windowMs) / MINUTE_MS;
    this.perMs = perMinute / MINUTE_MS;
    this.level = this.capacity;
    this.updated = at;
  }

  levelAt(at: number): number {
    if (at > this.updated) {
      this.level = Math.min(this.capacity, this.level + (at - this.updated) * this.perMs);
      this.updated = at;
    }
    return this.level;
  }

  /** Milliseconds from `at` until `cost` fits; 0 when it does now. */
  waitFor(cost: number, at: number): number {
    const missing = Math.min(cost, this.capacity) - this.levelAt(at);
    return missing <= 1e-9 ? 0 : missing / this.perMs;
  }

  /** Takes `cost`; the debt never exceeds one window's share. */
  take(cost: number, at: number): void {
    this.level = Math.max(-this.capacity, this.levelAt(at) - cost);
  }

  /** What is left, expressed per minute like the limit (what x-ratelimit-remaining-* says). */
  remaining(at: number): number {
    return Math.min(this.perMinute, Math.max(0, Math.floor((this.levelAt(at) * MINUTE_MS) / this.windowMs + 1e-9)));
  }

  /** Until the bucket is full again: what x-ratelimit-reset-* reports. */
  untilFull(at: number): number {
    return (this.capacity - this.levelAt(at)) / this.perMs;
  }
}

/**
 * Request and token limits per minute, each enforced over `windowMs` (one second by
 * default). A request is admitted when one request and its token cost both fit, and
 * takes them; otherwise it gets a 429 saying how long until it would fit, and a
 * rejected request still counts one request against the limit (OpenAI: "unsuccessful
 * requests contribute to your per-minute limit").
 *
 * The token cost is what OpenAI reserves before the request runs: the prompt's token
 * estimate plus max_completion_tokens ("Your rate limit is calculated as the maximum of
 * max_tokens and the estimated number of tokens based on the character count of your
 * request", guides/rate-limits#error-mitigation, quoted at
 * community.openai.com/t/clarification-about-max-completion-tokens-rate-limiting/973212;
 * the server charges their sum, the stricter reading). Nothing is refunded when the
 * answer is shorter.
 */
export class RateLimiter {
  private readonly windowMs: number;
  private requests: WindowBucket | undefined;
  private tokens: WindowBucket | undefined;

  constructor(
    private readonly limits: RateLimitOptions,
    private readonly now: () => number,
  ) {
    this.windowMs = limits.windowMs ?? DEFAULT_WINDOW_MS;
    if (!(this.windowMs > 0 && this.windowMs <= MINUTE_MS)) throw new RangeError(`windowMs must be in (0, 60000], got ${limits.windowMs}`);
    for (const key of ['rpm', 'tpm'] as const) {
      const limit = limits[key];
      if (limit !== undefined && !(limit > 0)) throw new RangeError(`${key} must be > 0, got ${limit}`);
    }
    this.reset();
  }

  /** Admit (and count) a request costing `tokens`, or say which budget it does not fit. */
  admit(tokens: number, model: string): RateDecision {
    const at = this.now();
    const { requests, tokens: tokenBucket } = this;
    if (requests && requests.waitFor(1, at) > 0) {
      const used = Math.ceil(requests.perMinute - requests.remaining(at));
      // Counted, then told how long until one more fits: a client that waits that long gets in.
      requests.take(1, at);
      return this.refuse('requests', requests.waitFor(1, at), `Limit ${requests.perMinute}, Used ${used}, Requested 1`, model);
    }
    if (tokenBucket && tokens > tokenBucket.perMinute) {
      requests?.take(1, at);
      return {
        ok: false,
        type: 'tokens',
        retryAfterMs: 0,
        message:
          `Request too large for ${model} in organization org-emulator on tokens per min (TPM): ` +
          `Limit ${tokenBucket.perMinute}, Requested ${tokens}. The input or output tokens must be reduced in order to run successfully.`,
      };
    }
    const tokenWait = tokenBucket?.waitFor(tokens, at) ?? 0;
    if (tokenBucket && tokenWait > 0) {
      const used = Math.ceil(tokenBucket.perMinute - tokenBucket.remaining(at));
      requests?.take(1, at);
      return this.refuse('tokens', tokenWait, `Limit ${tokenBucket.perMinute}, Used ${used}, Requested ${tokens}`, model);
    }
    requests?.take(1, at);
    tokenBucket?.take(tokens, at);
    return { ok: true };
  }

  private refuse(type: 'requests' | 'tokens', wait: number, counts: string, model: string): RateDecision {
    const unit = type === 'requests' ? 'RPM' : 'TPM';
    return {
      ok: false,
      type,
      retryAfterMs: wait,
      message: `Rate limit reached for ${model} in organization org-emulator on ${type} per min (${unit}): ${counts}. Please try again in ${formatGoDuration(wait)}.`,
    };
  }

  /**
   * x-ratelimit-* headers (sent on every answer, 429s too), as OpenAI documents them
   * (guides/rate-limits, "Rate limits in headers": limit-requests 60, remaining-requests
   * 59, reset-requests 1s, reset-tokens 6m0s): the per-minute limit, what is left in the
   * window expressed per minute, and how long until the window's bucket is full again.
   * A client that reads "remaining 1180 of 1200" as leave to send 1,180 at once learns
   * otherwise: the window holds 20.
   */
  headers(): Record<string, string> {
    const at = this.now();
    const out: Record<string, string> = {};
    for (const [name, bucket] of [
      ['requests', this.requests],
      ['tokens', this.tokens],
    ] as const) {
      if (!bucket) continue;
      out[`x-ratelimit-limit-${name}`] = String(bucket.perMinute);
      out[`x-ratelimit-remaining-${name}`] = String(bucket.remaining(at));
      out[`x-ratelimit-reset-${name}`] = formatGoDuration(bucket.untilFull(at));
    }
    return out;
  }

  /** Full buckets again. */
  reset(): void {
    const at = this.now();
    this.requests = this.limits.rpm !== undefined ? new WindowBucket(this.limits.rpm, this.windowMs, at) : undefined;
    this.tokens = this.limits.tpm !== undefined ? new WindowBucket(this.limits.tpm, this.windowMs, at) : undefined;
  }
}
