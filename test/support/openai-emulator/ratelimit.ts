import type { RateLimitOptions } from './types.js';

/** The period over which a full budget refills: OpenAI's limits are per minute. */
export const DEFAULT_WINDOW_MS = 60_000;
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
 * One budget metered the way OpenAI meters it: a bucket holding at most `capacity` units
 * that refills continuously at `capacity` per period (a minute's budget refills over a
 * minute, a little every millisecond), not a fixed window that resets all at once.
 * A new bucket is full.
 */
class RefillingBucket {
  private level: number;
  private updated: number;
  private readonly perMs: number;

  constructor(
    readonly capacity: number,
    periodMs: number,
    at: number,
  ) {
    this.level = capacity;
    this.updated = at;
    this.perMs = capacity / periodMs;
  }

  /** Units available at `at` (fractional: the refill is continuous). */
  levelAt(at: number): number {
    if (at > this.updated) {
      this.level = Math.min(this.capacity, this.level + (at - this.updated) * this.perMs);
      this.updated = at;
    }
    return this.level;
  }

  /** Milliseconds from `at` until `cost` units are available; 0 when they are. */
  waitFor(cost: number, at: number): number {
    const missing = cost - this.levelAt(at);
    return missing <= 0 ? 0 : missing / this.perMs;
  }

  take(cost: number, at: number): void {
    this.level = this.levelAt(at) - cost;
  }

  /** Until the bucket is full again: what OpenAI's x-ratelimit-reset-* headers report. */
  untilFull(at: number): number {
    return (this.capacity - this.levelAt(at)) / this.perMs;
  }
}

/**
 * Request and token budgets as continuously refilling buckets, like OpenAI's: a request
 * is admitted when one request and its token cost (prompt + max_completion_tokens) are
 * both in the buckets, and takes them; otherwise it gets a 429 saying how long until it
 * would fit. Rejected requests consume nothing.
 */
export class RateLimiter {
  private readonly periodMs: number;
  private requests: RefillingBucket | undefined;
  private tokens: RefillingBucket | undefined;

  constructor(
    private readonly limits: RateLimitOptions,
    private readonly now: () => number,
  ) {
    this.periodMs = limits.windowMs ?? DEFAULT_WINDOW_MS;
    if (!(this.periodMs > 0)) throw new RangeError(`windowMs must be > 0, got ${limits.windowMs}`);
    for (const key of ['rpm', 'tpm'] as const) {
      const limit = limits[key];
      if (limit !== undefined && !(limit > 0)) throw new RangeError(`${key} must be > 0, got ${limit}`);
    }
    this.reset();
  }

  /** Admit (and count) a request costing `tokens`, or say which budget it does not fit. */
  admit(tokens: number, model: string): RateDecision {
    const at = this.now();
    const per = this.periodMs === DEFAULT_WINDOW_MS ? 'per min' : `per ${formatGoDuration(this.periodMs)}`;
    const { requests, tokens: tokenBucket } = this;
    if (requests && requests.waitFor(1, at) > 0) {
      const wait = requests.waitFor(1, at);
      const used = Math.ceil(requests.capacity - requests.levelAt(at));
      return {
        ok: false,
        type: 'requests',
        retryAfterMs: wait,
        message:
          `Rate limit reached for ${model} in organization org-emulator on requests ${per} (RPM): ` +
          `Limit ${requests.capacity}, Used ${used}, Requested 1. Please try again in ${formatGoDuration(wait)}.`,
      };
    }
    if (tokenBucket && tokens > tokenBucket.capacity) {
      return {
        ok: false,
        type: 'tokens',
        retryAfterMs: 0,
        message:
          `Request too large for ${model} in organization org-emulator on tokens ${per} (TPM): ` +
          `Limit ${tokenBucket.capacity}, Requested ${tokens}. The input or output tokens must be reduced in order to run successfully.`,
      };
    }
    if (tokenBucket && tokenBucket.waitFor(tokens, at) > 0) {
      const wait = tokenBucket.waitFor(tokens, at);
      const used = Math.ceil(tokenBucket.capacity - tokenBucket.levelAt(at));
      return {
        ok: false,
        type: 'tokens',
        retryAfterMs: wait,
        message:
          `Rate limit reached for ${model} in organization org-emulator on tokens ${per} (TPM): ` +
          `Limit ${tokenBucket.capacity}, Used ${used}, Requested ${tokens}. Please try again in ${formatGoDuration(wait)}.`,
      };
    }
    requests?.take(1, at);
    tokenBucket?.take(tokens, at);
    return { ok: true };
  }

  /**
   * x-ratelimit-* headers (sent on every answer): the limit, what is left now (whole
   * units, rounded down) and how long until the bucket is full again.
   */
  headers(): Record<string, string> {
    const at = this.now();
    const out: Record<string, string> = {};
    for (const [name, bucket] of [
      ['requests', this.requests],
      ['tokens', this.tokens],
    ] as const) {
      if (!bucket) continue;
      out[`x-ratelimit-limit-${name}`] = String(bucket.capacity);
      out[`x-ratelimit-remaining-${name}`] = String(Math.max(0, Math.floor(bucket.levelAt(at))));
      out[`x-ratelimit-reset-${name}`] = formatGoDuration(bucket.untilFull(at));
    }
    return out;
  }

  /** Full buckets again. */
  reset(): void {
    const at = this.now();
    this.requests = this.limits.rpm !== undefined ? new RefillingBucket(this.limits.rpm, this.periodMs, at) : undefined;
    this.tokens = this.limits.tpm !== undefined ? new RefillingBucket(this.limits.tpm, this.periodMs, at) : undefined;
  }
}
