import { sleep } from '../retry/index.js';

/**
 * A pause shared by every worker calling one provider. When the provider answers 429,
 * all workers wait out the same cool-down instead of each one hammering on its own
 * and collecting more 429s.
 */
export class Cooldown {
  private until = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** Extends the pause to at least `ms` from now. */
  pause(ms: number): void {
    this.until = Math.max(this.until, this.now() + Math.max(0, ms));
  }

  get remainingMs(): number {
    return Math.max(0, this.until - this.now());
  }

  /** Resolves once no pause is in force (re-checking: another worker may extend it meanwhile). */
  async wait(signal?: AbortSignal): Promise<void> {
    for (let left = this.remainingMs; left > 0; left = this.remainingMs) await sleep(left, signal);
  }
}
