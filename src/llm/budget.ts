/**
 * A provider's per-minute budgets (requests and tokens), as token buckets that refill
 * continuously, the way OpenAI meters them. A budget comes from the config
 * (`rpm`/`tpm`) or is learned from the `x-ratelimit-*` headers of the answers, so the
 * run slows down before the wall instead of after it.
 *
 * Written by hand: bottleneck's reservoir refills in steps and cannot be corrected by
 * the usage an answer reports or by the server's own count of what is left.
 */
export class Bucket {
  private level: number;
  private updated: number;

  constructor(
    public capacity: number,
    private readonly now: () => number,
  ) {
    if (!(capacity > 0)) throw new RangeError(`capacity must be > 0, got ${capacity}`);
    this.level = capacity;
    this.updated = now();
  }

  /** Units per millisecond: a per-minute budget refills in a minute. */
  private get rate(): number {
    return this.capacity / 60_000;
  }

  private refill(): void {
    const now = this.now();
    this.level = Math.min(this.capacity, this.level + (now - this.updated) * this.rate);
    this.updated = now;
  }

  /** Milliseconds until `cost` units are available (a cost above capacity waits for a full bucket). */
  waitFor(cost: number): number {
    this.refill();
    const need = Math.min(cost, this.capacity) - this.level;
    return need <= 0 ? 0 : Math.ceil(need / this.rate);
  }

  take(cost: number): void {
    this.refill();
    this.level -= cost;
  }

  /** Gives back what a reservation over-estimated (or takes what it under-estimated). */
  adjust(delta: number): void {
    this.refill();
    this.level = Math.min(this.capacity, this.level + delta);
  }

  /** The server's count wins when it says less is left than we think (others share the key). */
  sync(limit: number, remaining: number): void {
    this.refill();
    if (limit > 0) this.capacity = limit;
    this.level = Math.min(this.level, remaining);
  }

  /** After a 429: nothing is left until it refills. */
  drain(): void {
    this.refill();
    this.level = Math.min(this.level, 0);
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
}

/** Reads the x-ratelimit-* headers; a dimension is present only when its limit and remaining are. */
export function readRateHeaders(headers: Headers | undefined): RateHeaders {
  const out: RateHeaders = {};
  if (!headers) return out;
  for (const dimension of ['requests', 'tokens'] as const) {
    const limit = Number(headers.get(`x-ratelimit-limit-${dimension}`));
    const remaining = Number(headers.get(`x-ratelimit-remaining-${dimension}`));
    if (headers.get(`x-ratelimit-limit-${dimension}`) === null || !Number.isFinite(limit) || !Number.isFinite(remaining) || limit <= 0) continue;
    out[dimension] = { limit, remaining, resetMs: parseDuration(headers.get(`x-ratelimit-reset-${dimension}`)) };
  }
  return out;
}
