import type { RateLimitOptions } from './types.js';

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
  | { ok: false; type: 'requests' | 'tokens'; retryAfterMs: number; message: string };

/**
 * Fixed-window budgets: a window opens at the first request after the previous one expired and
 * lasts `windowMs`; requests and tokens used in it are counted until it expires. Rejected requests
 * consume nothing.
 */
export class RateLimiter {
  private windowStart: number | undefined;
  private requestsUsed = 0;
  private tokensUsed = 0;
  private readonly windowMs: number;

  constructor(
    private readonly limits: RateLimitOptions,
    private readonly now: () => number,
  ) {
    this.windowMs = limits.windowMs ?? DEFAULT_WINDOW_MS;
  }

  private roll(at: number): void {
    if (this.windowStart !== undefined && at >= this.windowStart + this.windowMs) {
      this.windowStart = undefined;
      this.requestsUsed = 0;
      this.tokensUsed = 0;
    }
  }

  private resetInMs(at: number): number {
    return this.windowStart === undefined ? 0 : this.windowStart + this.windowMs - at;
  }

  /** Admit (and count) a request costing `tokens`, or say which budget it would exceed. */
  admit(tokens: number, model: string): RateDecision {
    const at = this.now();
    this.roll(at);
    const { rpm, tpm } = this.limits;
    const per = this.windowMs === DEFAULT_WINDOW_MS ? 'per min' : `per ${formatGoDuration(this.windowMs)}`;
    if (rpm !== undefined && this.requestsUsed + 1 > rpm) {
      const wait = this.resetInMs(at);
      return {
        ok: false,
        type: 'requests',
        retryAfterMs: wait,
        message:
          `Rate limit reached for ${model} in organization org-emulator on requests ${per} (RPM): ` +
          `Limit ${rpm}, Used ${this.requestsUsed}, Requested 1. Please try again in ${formatGoDuration(wait)}.`,
      };
    }
    if (tpm !== undefined && this.tokensUsed + tokens > tpm) {
      const wait = this.resetInMs(at);
      return {
        ok: false,
        type: 'tokens',
        retryAfterMs: wait,
        message:
          `Rate limit reached for ${model} in organization org-emulator on tokens ${per} (TPM): ` +
          `Limit ${tpm}, Used ${this.tokensUsed}, Requested ${tokens}. Please try again in ${formatGoDuration(wait)}.`,
      };
    }
    this.windowStart ??= at;
    this.requestsUsed += 1;
    this.tokensUsed += tokens;
    return { ok: true };
  }

  /** x-ratelimit-* headers describing the current window (sent on every answer). */
  headers(): Record<string, string> {
    const at = this.now();
    this.roll(at);
    const reset = formatGoDuration(this.resetInMs(at));
    const out: Record<string, string> = {};
    const { rpm, tpm } = this.limits;
    if (rpm !== undefined) {
      out['x-ratelimit-limit-requests'] = String(rpm);
      out['x-ratelimit-remaining-requests'] = String(Math.max(0, rpm - this.requestsUsed));
      out['x-ratelimit-reset-requests'] = reset;
    }
    if (tpm !== undefined) {
      out['x-ratelimit-limit-tokens'] = String(tpm);
      out['x-ratelimit-remaining-tokens'] = String(Math.max(0, tpm - this.tokensUsed));
      out['x-ratelimit-reset-tokens'] = reset;
    }
    return out;
  }

  reset(): void {
    this.windowStart = undefined;
    this.requestsUsed = 0;
    this.tokensUsed = 0;
  }
}
