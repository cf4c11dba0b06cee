const HOUR_MS = 3_600_000;

/** A slot taken from a person's hourly allowance: kept once the request counts, given back when it does not. */
export interface Reservation {
  /** The request counts: the slot is taken for the hour. */
  keep(): void;
  /** The request does not count: the slot is free again at once. */
  release(): void;
}

/** Why no slot: the seconds until one may be free, and whether that is only a request of theirs still being answered. */
export interface NoSlot {
  retryAfter: number;
  /** True when a slot of the hour is held by a request still pending (it may be given back within seconds). */
  pending: boolean;
}

/**
 * Where a person's runs an hour are counted. `reserve` checks and takes a slot in one
 * step, so that two requests arriving together can never both pass a limit of one: the
 * caller reserves before its first await and releases the slot when its request ends
 * without counting.
 *
 * Not shared yet by instances sharing a PostgreSQL cache (cache.url): the count is each
 * process's own, so behind a load balancer of N `serve` instances a person may start up to
 * N × runs_per_hour runs an hour (the runs themselves never overlap on a tab: the store's
 * lock, store-locks.ts). The runs table alone cannot carry the count: a refusal over the caps
 * counts and records no run, and a request being answered is in no table yet. What sharing
 * it takes: a Store table of admissions (who, at, pending) in both stores; `reserve` as one
 * statement in a SERIALIZABLE transaction (insert where fewer than `perHour` rows of that
 * person are younger than an hour, retried on 40001), `keep` and `release` an update or a
 * delete of its row; `reserve` then becomes async, so the in-process HourlyLimit stays in
 * front of it (taken before any await, as now) and the store's is asked next.
 */
export interface RunAllowance {
  readonly perHour: number;
  /** A slot for `who`, or the seconds until one frees up. */
  reserve(who: string): Reservation | NoSlot;
}

/**
 * The in-process allowance: runs admitted per person in the last hour (a sliding
 * window). It is enough for one `serve` process, which is what the SQLite cache allows
 * (one process family, one disk); the runs it admits are recorded in the store (the runs
 * table, with who asked) for the record. Only authenticated people are counted, so the
 * map holds at most the allowed emails. Synchronous: the check and the taking of the
 * slot cannot be separated by another request.
 */
export class HourlyLimit implements RunAllowance {
  private readonly starts = new Map<string, Start[]>();

  /**
   * @param pendingSeconds how long a request may still take to be answered (the server's
   *   request timeout): a person refused only because a request of theirs is pending is
   *   told to retry after that, not after the hour, for that slot may be given back.
   */
  constructor(
    readonly perHour: number,
    private readonly now: () => number = Date.now,
    private readonly pendingSeconds = 30,
  ) {}

  reserve(who: string): Reservation | NoSlot {
    const recent = this.recent(who);
    if (recent.length >= this.perHour) {
      const kept = recent.filter((s) => !s.pending);
      if (kept.length < this.perHour) return { retryAfter: Math.max(1, Math.ceil(this.pendingSeconds)), pending: true };
      const oldest = kept[kept.length - this.perHour]?.at ?? this.now();
      return { retryAfter: Math.max(1, Math.ceil((oldest + HOUR_MS - this.now()) / 1000)), pending: false };
    }
    const start: Start = { at: this.now(), pending: true };
    this.starts.set(who, [...recent, start]);
    return {
      keep: () => {
        start.pending = false;
      },
      release: () => {
        if (!start.pending) return;
        const kept = this.starts.get(who) ?? [];
        const i = kept.indexOf(start);
        if (i >= 0) kept.splice(i, 1);
        if (kept.length === 0) this.starts.delete(who);
      },
    };
  }

  private recent(who: string): Start[] {
    const since = this.now() - HOUR_MS;
    const kept = (this.starts.get(who) ?? []).filter((s) => s.at > since);
    if (kept.length === 0) this.starts.delete(who);
    else this.starts.set(who, kept);
    return kept;
  }
}

/** A request admitted within the hour; pending until it counts or is given back. */
interface Start {
  at: number;
  pending: boolean;
}
