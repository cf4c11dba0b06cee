/** Per-minute request quotas over a sliding 60 s window, driven by an injectable clock. */

export const QUOTA_WINDOW_MS = 60_000;

export class SlidingWindowQuota {
  private stamps: number[] = [];
  private head = 0;

  constructor(
    /** Requests allowed per window; Infinity for unlimited. */
    public limit: number,
    private readonly windowMs = QUOTA_WINDOW_MS,
  ) {}

  /** Requests counted in the window ending at `now`. */
  used(now: number): number {
    this.evict(now);
    return this.stamps.length - this.head;
  }

  /** Takes one unit of quota; false (and nothing taken) when the window is full. */
  tryTake(now: number): boolean {
    if (this.limit === Infinity) return true;
    if (this.used(now) >= this.limit) return false;
    this.stamps.push(now);
    return true;
  }

  reset(): void {
    this.stamps = [];
    this.head = 0;
  }

  private evict(now: number): void {
    const cutoff = now - this.windowMs;
    while (this.head < this.stamps.length && (this.stamps[this.head] ?? Infinity) <= cutoff) this.head += 1;
    // Compact once the dead prefix dominates, so memory stays O(limit).
    if (this.head > 1024 && this.head * 2 > this.stamps.length) {
      this.stamps = this.stamps.slice(this.head);
      this.head = 0;
    }
  }
}
