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

export type QuotaScope = 'user' | 'project';

/**
 * Google's two Sheets quotas on one kind of call (reads, or writes), both per minute:
 * "Per minute per project 300" and "Per minute per user per project 60"
 * (developers.google.com/workspace/sheets/api/limits, "Usage limits"). Several service
 * accounts of one project each have their own user quota and share the project's; a
 * call must fit both. A refused call takes nothing.
 */
export class SheetsQuota {
  private readonly users = new Map<string, SlidingWindowQuota>();
  private readonly project: SlidingWindowQuota;
  private perUser: number;

  constructor(perUser: number, perProject: number, private readonly windowMs = QUOTA_WINDOW_MS) {
    this.perUser = perUser;
    this.project = new SlidingWindowQuota(perProject, windowMs);
  }

  /** Calls allowed per user (service account) per window. */
  get limit(): number {
    return this.perUser;
  }

  set limit(value: number) {
    this.perUser = value;
    for (const quota of this.users.values()) quota.limit = value;
  }

  get projectLimit(): number {
    return this.project.limit;
  }

  set projectLimit(value: number) {
    this.project.limit = value;
  }

  /** Counts one call by `user`; the quota that refused it, or undefined when it fits both. */
  tryTake(now: number, user = 'anonymous'): QuotaScope | undefined {
    let mine = this.users.get(user);
    if (!mine) {
      mine = new SlidingWindowQuota(this.perUser, this.windowMs);
      this.users.set(user, mine);
    }
    if (mine.limit !== Infinity && mine.used(now) >= mine.limit) return 'user';
    if (!this.project.tryTake(now)) return 'project';
    mine.tryTake(now);
    return undefined;
  }

  /** Calls counted in the window ending at `now`, by one user or by the whole project. */
  used(now: number, user?: string): number {
    return user === undefined ? this.project.used(now) : (this.users.get(user)?.used(now) ?? 0);
  }

  reset(): void {
    this.project.reset();
    this.users.clear();
  }
}
