/**
 * Providers state their limits per minute but enforce them over much shorter windows:
 * "Rate limits can be quantized, meaning they are enforced over shorter periods of time
 * (e.g. 60,000 requests/minute may be enforced as 1,000 requests/second)" (OpenAI,
 * platform.openai.com/docs/guides/rate-limits). A minute's budget spent in a burst is
 * 429s, so the only safe pace is an even one.
 */
export const PACE_HEADROOM = 0.99;
/**
 * How late a timer may fire and still keep the schedule (a busy event loop fires timers
 * late). Below 1 s × (1/headroom − 1) ≈ 10 ms, so that a window of 1 s still never holds
 * more than its share: (1 s + slack) × headroom × limit < the share.
 */
export const LATE_SLACK_MS = 8;

/**
 * One per-minute limit (requests, or tokens) as an even pace: each reservation leaves
 * `cost` × (1 min / limit) after the one before it, never earlier, so any window of any
 * length sees at most its share of the limit plus one request (and for requests of cost
 * 1, at most ⌈window × limit / 1 min⌉). That keeps a stream within what a server
 * metering per second (or per any window) admits, without knowing its window. Paced at
 * {@link PACE_HEADROOM} of the limit: timers fire late and networks bunch requests.
 *
 * Nothing is handed back when an answer uses fewer tokens than reserved: OpenAI counts
 * a request's prompt estimate plus max_completion_tokens before it runs, and keeps it.
 */
export class Meter {
  /** When the next reservation may leave at the earliest. */
  private next = -Infinity;
  /** Below 1 after a 429 said the pace was too fast (others share the key, our estimates are low). */
  private factor = 1;

  constructor(private perMinute: number) {
    Meter.check(perMinute);
  }

  private static check(perMinute: number): void {
    if (!(perMinute > 0) || !Number.isFinite(perMinute)) throw new RangeError(`a per-minute limit must be a number > 0, got ${perMinute}`);
  }

  get limit(): number {
    return this.perMinute;
  }

  set limit(perMinute: number) {
    Meter.check(perMinute);
    this.perMinute = perMinute;
  }

  /** Milliseconds one unit takes at the current pace. */
  get msPerUnit(): number {
    return 60_000 / (this.perMinute * PACE_HEADROOM * this.factor);
  }

  /** The earliest time at or after `at` that a reservation may leave. */
  earliest(at: number): number {
    return Math.max(at, this.next);
  }

  /**
   * Takes `cost` units for a request leaving at `at` (≥ earliest(at)). The next slot is
   * counted from the schedule when the timer fired a little late (up to
   * {@link LATE_SLACK_MS}), else from `at`: a late timer neither costs throughput nor
   * lets a backlog leave at once.
   */
  take(cost: number, at: number): void {
    this.next = Math.max(this.next, at - LATE_SLACK_MS) + Math.max(0, cost) * this.msPerUnit;
  }

  /** Nothing leaves before `until` (a 429's retry-after). */
  hold(until: number): void {
    this.next = Math.max(this.next, until);
  }

  /** A 429 at this pace: the limit is lower than believed; slow by a tenth (to half at most). */
  slow(): void {
    this.factor = Math.max(0.5, this.factor * 0.9);
  }

  /** Each answer without a 429 wins a little of the pace back. */
  recover(): void {
    this.factor = Math.min(1, this.factor + 0.002);
  }
}

/** Go-style durations as OpenAI sends them in x-ratelimit-reset-*: `6m0s`, `1.5s`, `12ms`, `1h2m`. */
export function parseDuration(text: string | null | undefined): number | undefined {
  if (!text) return undefined;
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
  let total = 0;
  let matched = '';
  for (const match of text.trim().matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) {
    total += Number(match[1]) * (units[match[2] ?? ''] ?? 0);
    matched += match[0];
  }
  return matched.length > 0 && matched === text.trim() ? total : undefined;
}

export interface RateHeaders {
  requests?: { limit: number; remaining: number; resetMs: number | undefined };
  tokens?: { limit: number; remaining: number; resetMs: number | undefined };
  /** Limit headers present but not believable (not a whole number, or out of range): not adopted. */
  implausible?: Array<{ header: string; value: string }>;
}

/**
 * The limits a header may state and be believed, per minute: the range llm.providers[].rpm
 * and tpm accept. OpenAI states whole numbers ("x-ratelimit-limit-requests: 60000",
 * platform.openai.com/docs/guides/rate-limits); a proxy's "0.5" would pace one request every
 * two minutes, and a tiny or huge value would put waits past what a timer can hold.
 */
export const PLAUSIBLE_LIMITS = {
  requests: { min: 1, max: 10_000_000 },
  tokens: { min: 100, max: 10_000_000_000 },
} as const;

/** A stated limit as a whole number in its plausible range, or undefined. */
export function plausibleLimit(dimension: 'requests' | 'tokens', raw: string): number | undefined {
  const text = raw.trim();
  if (!/^\d{1,15}$/.test(text)) return undefined;
  const n = Number(text);
  const range = PLAUSIBLE_LIMITS[dimension];
  return n >= range.min && n <= range.max ? n : undefined;
}

/**
 * Reads the x-ratelimit-* headers; a dimension is present only when its limit is a
 * believable whole number and its remaining is a number. A limit header that is not
 * believable is listed in `implausible` (to be said once), never adopted.
 */
export function readRateHeaders(headers: Headers | undefined): RateHeaders {
  const out: RateHeaders = {};
  if (!headers) return out;
  for (const dimension of ['requests', 'tokens'] as const) {
    const header = `x-ratelimit-limit-${dimension}`;
    const stated = headers.get(header);
    if (stated === null) continue;
    const limit = plausibleLimit(dimension, stated);
    if (limit === undefined) {
      (out.implausible ??= []).push({ header, value: stated.slice(0, 40) });
      continue;
    }
    const remaining = Number(headers.get(`x-ratelimit-remaining-${dimension}`));
    if (!Number.isFinite(remaining)) continue;
    out[dimension] = { limit, remaining, resetMs: parseDuration(headers.get(`x-ratelimit-reset-${dimension}`)) };
  }
  return out;
}
