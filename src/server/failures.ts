/**
 * Tabs a person's request could not read (a header renamed, the tab unshared), kept
 * for a short while: a refusal that read the whole tab must not be repeatable at will,
 * each press taking a read from the one Sheets quota every run of the process shares.
 * Within that while, people are answered from here without a read; the operator's cron
 * reads again, and a read that works forgets the failure. Keyed by target name, so it
 * holds at most one entry per target. Each process keeps its own: N instances sharing a
 * cache read an unreadable tab at most N times a while, which the Sheets quota bears.
 */
export class RecentFailures {
  private readonly seen = new Map<string, { at: number; body: Record<string, unknown> }>();

  constructor(
    readonly forMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  remember(target: string, body: Record<string, unknown>): void {
    this.seen.set(target, { at: this.now(), body });
  }

  forget(target: string): void {
    this.seen.delete(target);
  }

  /** The failure still remembered for `target`, with the seconds until the tab is read again. */
  recall(target: string): { body: Record<string, unknown>; retryAfter: number } | undefined {
    const seen = this.seen.get(target);
    if (!seen) return undefined;
    const left = seen.at + this.forMs - this.now();
    if (left <= 0) {
      this.seen.delete(target);
      return undefined;
    }
    return { body: seen.body, retryAfter: Math.max(1, Math.ceil(left / 1000)) };
  }
}
