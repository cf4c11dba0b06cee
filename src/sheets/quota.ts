import { sleep } from '../retry/index.js';

/**
 * Keeps calls within a per-minute quota while spreading them out: at most `burst`
 * calls in any window of 60 s × burst / perMinute. Any 60 s then holds at most
 * `perMinute` calls (it spans 60 / window such windows), and calls never bunch up at
 * the start of a minute and then stall for the rest of it, which is what a plain
 * "N per minute" window does to a steady stream of results.
 *
 * Hand-written (not p-throttle) because the writer must ask "is a slot free now?" to
 * choose between a regular batch and coalescing its backlog, and tests drive it with
 * an injected clock.
 */
export class QuotaPacer {
  readonly burst: number;
  readonly windowMs: number;
  private readonly stamps: number[] = [];
  private blockedUntil = 0;

  constructor(
    readonly perMinute: number,
    private readonly now: () => number = Date.now,
    burst = 10,
  ) {
    if (!Number.isFinite(perMinute) || perMinute < 1) throw new RangeError(`perMinute must be a number ≥ 1, got ${perMinute}`);
    this.burst = Math.max(1, Math.min(burst, Math.floor(perMinute)));
    this.windowMs = (60_000 * this.burst) / perMinute;
  }

  /** Milliseconds until a call may start; 0 when a slot is free now. */
  delay(): number {
    const now = this.now();
    while (this.stamps.length > 0 && (this.stamps[0] ?? 0) <= now - this.windowMs) this.stamps.shift();
    const blocked = Math.max(0, this.blockedUntil - now);
    if (this.stamps.length < this.burst) return blocked;
    return Math.max(blocked, (this.stamps[0] ?? now) + this.windowMs - now);
  }

  /** Waits for a slot and takes it. Returns how long it waited. */
  async take(signal?: AbortSignal): Promise<number> {
    let waited = 0;
    for (let wait = this.delay(); wait > 0; wait = this.delay()) {
      await sleep(wait, signal);
      waited += wait;
    }
    this.stamps.push(this.now());
    return waited;
  }

  /** Pushes the next slot back after the server said 429 despite the pacing. */
  penalize(ms: number): void {
    this.blockedUntil = Math.max(this.blockedUntil, this.now() + ms);
  }
}
