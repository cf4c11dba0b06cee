import { sleep } from '../retry/index.js';
import { Bucket, readRateHeaders } from './budget.js';
import { Cooldown } from './cooldown.js';

export interface GateOptions {
  /** Requests per minute, when configured. */
  rpm?: number | undefined;
  /** Tokens per minute, when configured. */
  tpm?: number | undefined;
  /** The concurrency ceiling (llm.max_workers). */
  maxConcurrency: number;
  now?: () => number;
}

/** A pass through the gate: what it reserved, to settle when the answer comes. */
export interface Ticket {
  tokens: number;
  startedAt: number;
  /** The token bucket the reservation was taken from (none before a budget was known). */
  bucket: Bucket | undefined;
}

export type GateResult =
  | { kind: 'answered'; totalTokens: number }
  | { kind: 'rate_limited'; waitMs: number }
  | { kind: 'failed' };

/**
 * Everything that paces one provider, shared by all workers of a run:
 *  - a shared cool-down: one 429 pauses every worker for the wait the server asked;
 *  - request and token budgets (configured, or learned from x-ratelimit-* headers);
 *  - adaptive concurrency (AIMD): halve on a 429, grow by one per round of answers
 *    while latency holds, never above max_workers.
 */
export class ProviderGate {
  readonly cooldown: Cooldown;
  private requests: Bucket | undefined;
  private tokens: Bucket | undefined;
  private readonly now: () => number;
  private limit: number;
  private inUse = 0;
  private readonly waiters: Array<() => void> = [];
  private fastest = Infinity;
  private lastDecrease = -Infinity;

  constructor(private readonly options: GateOptions) {
    if (!Number.isInteger(options.maxConcurrency) || options.maxConcurrency < 1) {
      throw new RangeError(`maxConcurrency must be a whole number ≥ 1, got ${options.maxConcurrency}`);
    }
    this.now = options.now ?? Date.now;
    this.cooldown = new Cooldown(this.now);
    this.limit = options.maxConcurrency;
    if (options.rpm) this.requests = new Bucket(options.rpm, this.now);
    if (options.tpm) this.tokens = new Bucket(options.tpm, this.now);
  }

  /** Whether requests are metered in tokens (a tpm configured or learned): only then is a prompt counted. */
  get metersTokens(): boolean {
    return this.tokens !== undefined;
  }

  /** The current concurrency limit (for reports and tests). */
  get concurrency(): number {
    return Math.floor(this.limit);
  }

  /** Waits for the cool-down, a concurrency slot and the budgets; then reserves them. */
  async enter(estimatedTokens: number, signal?: AbortSignal): Promise<Ticket> {
    await this.acquireSlot(signal);
    try {
      for (;;) {
        await this.cooldown.wait(signal);
        const wait = Math.max(this.requests?.waitFor(1) ?? 0, this.tokens?.waitFor(estimatedTokens) ?? 0);
        if (wait <= 0) break;
        // Short naps: a settled answer may hand tokens back before the budget refills.
        await sleep(Math.min(wait, 250), signal);
      }
    } catch (error) {
      this.releaseSlot();
      throw error;
    }
    this.requests?.take(1);
    this.tokens?.take(estimatedTokens);
    return { tokens: estimatedTokens, startedAt: this.now(), bucket: this.tokens };
  }

  /** Settles a ticket with what happened, and learns from the answer's headers. */
  leave(ticket: Ticket, result: GateResult, headers?: Headers): void {
    this.releaseSlot();
    const synced = this.observe(headers);
    // Settle only what this bucket reserved, and only when the server did not just say
    // how much is left: its count already holds this request, at its own price.
    const settle = ticket.bucket !== undefined && ticket.bucket === this.tokens && !synced;
    if (result.kind === 'answered') {
      if (settle) this.tokens?.adjust(ticket.tokens - result.totalTokens);
      const latency = this.now() - ticket.startedAt;
      this.fastest = Math.min(this.fastest, latency);
      // Additive increase: about +1 per round of answers, while latency holds.
      if (latency <= 2 * this.fastest + 50) this.limit = Math.min(this.options.maxConcurrency, this.limit + 1 / Math.max(1, this.limit));
    } else if (result.kind === 'rate_limited') {
      this.cooldown.pause(result.waitMs);
      this.requests?.drain();
      // Multiplicative decrease, once per cool-down: a burst of 429s is one signal.
      if (this.now() - this.lastDecrease > result.waitMs) {
        this.limit = Math.max(1, Math.floor(this.limit / 2));
        this.lastDecrease = this.now();
      }
    } else if (settle) {
      this.tokens?.adjust(ticket.tokens);
    }
    this.wake();
  }

  /** Adopts (or corrects) the budgets from the provider's x-ratelimit-* headers; true when it synced tokens. */
  observe(headers: Headers | undefined): boolean {
    const seen = readRateHeaders(headers);
    if (seen.requests) {
      this.requests ??= new Bucket(seen.requests.limit, this.now);
      this.requests.sync(Math.min(seen.requests.limit, this.options.rpm ?? Infinity), seen.requests.remaining);
    }
    if (seen.tokens) {
      this.tokens ??= new Bucket(seen.tokens.limit, this.now);
      this.tokens.sync(Math.min(seen.tokens.limit, this.options.tpm ?? Infinity), seen.tokens.remaining);
      return true;
    }
    return false;
  }

  private async acquireSlot(signal?: AbortSignal): Promise<void> {
    while (this.inUse >= Math.floor(this.limit)) {
      signal?.throwIfAborted();
      await new Promise<void>((resolve) => {
        const onAbort = () => resolve();
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiters.push(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
    signal?.throwIfAborted();
    this.inUse++;
  }

  private releaseSlot(): void {
    this.inUse = Math.max(0, this.inUse - 1);
    this.wake();
  }

  /** Wakes as many waiters as there are free slots; each re-checks before taking one. */
  private wake(): void {
    let free = Math.floor(this.limit) - this.inUse;
    while (free-- > 0 && this.waiters.length > 0) this.waiters.shift()?.();
  }
}
