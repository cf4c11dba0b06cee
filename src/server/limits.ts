const HOUR_MS = 3_600_000;

/**
 * Runs admitted per person in the last hour (a sliding window). Only authenticated
 * people are counted, so the map holds at most the allowed emails.
 */
export class HourlyLimit {
  private readonly starts = new Map<string, number[]>();

  constructor(
    readonly perHour: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until `who` may start another run; undefined when they may now. */
  retryAfter(who: string): number | undefined {
    const recent = this.recent(who);
    if (recent.length < this.perHour) return undefined;
    const oldest = recent[recent.length - this.perHour] ?? this.now();
    return Math.max(1, Math.ceil((oldest + HOUR_MS - this.now()) / 1000));
  }

  record(who: string): void {
    this.starts.set(who, [...this.recent(who), this.now()]);
  }

  private recent(who: string): number[] {
    const since = this.now() - HOUR_MS;
    const kept = (this.starts.get(who) ?? []).filter((t) => t > since);
    if (kept.length === 0) this.starts.delete(who);
    else this.starts.set(who, kept);
    return kept;
  }
}
