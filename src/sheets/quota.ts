import { sleep } from '../retry/index.js';

/**
 * Keeps calls within a per-minute quota while spreading them out evenly: a burst of a
 * few calls may go at once, then one call every 60 s / (perMinute − burst + 1). No
 * 60 s window ever holds more than `perMinute` calls, and a steady stream of results
 * is written every second or so instead of bunching up at the start of a minute and
 * stalling for the rest of it (what a plain "N per minute" window does).
 *
 * This is the generic cell rate algorithm: `tat` is the time the next call would be
 * due if calls went at the steady rate; a call may go up to `burst - 1` intervals early.
 *
 * Hand-written (not p-throttle or bottleneck) because the writer asks "could a call go
 * now and still leave one slot in reserve?" to keep a slot for the final flush, and
 * tests drive it with an injected clock.
 */
export class QuotaPacer {
  readonly burst: number;
  /** Milliseconds between calls at the steady rate. */
  readonly intervalMs: number;
  private tat = 0;
  private blockedUntil = 0;

  constructor(
    readonly perMinute: number,
    private readonly now: () => number = Date.now,
    burst = 2,
  ) {
    if (!Number.isFinite(perMinute) || perMinute < 1) throw new RangeError(`perMinute must be a number ≥ 1, got ${perMinute}`);
    if (!Number.isInteger(burst) || burst < 1) throw new RangeError(`burst must be a whole number ≥ 1, got ${burst}`);
    this.burst = Math.min(burst, Math.floor(perMinute));
    // n calls in any window of 60 s satisfy n < burst + 60 s / interval, so this
    // interval caps them at perMinute.
    this.intervalMs = Math.ceil(60_000 / (Math.floor(perMinute) - this.burst + 1));
  }

  /**
   * Milliseconds until a call may start; 0 when it may start now. With `reserve`,
   * until it may start and still leave that many calls available right after.
   */
  delay(reserve = 0): number {
    const now = this.now();
    const early = (this.burst - 1 - Math.min(reserve, this.burst - 1)) * this.intervalMs;
    return Math.max(0, this.blockedUntil - now, Math.max(this.tat, now) - early - now);
  }

  /** Waits for a slot and takes it. Returns how long it waited. */
  async take(signal?: AbortSignal): Promise<number> {
    let waited = 0;
    for (let wait = this.delay(); wait > 0; wait = this.delay()) {
      await sleep(wait, signal);
      waited += wait;
    }
    this.tat = Math.max(this.tat, this.now()) + this.intervalMs;
    return waited;
  }

  /** Holds every call back for `ms` after the server said 429 despite the pacing. */
  penalize(ms: number): void {
    this.blockedUntil = Math.max(this.blockedUntil, this.now() + ms);
  }
}
