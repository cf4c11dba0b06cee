const HOUR_MS = 3_600_000;

/** A slot taken from a person's hourly allowance: kept once the request counts, given back when it does not. */
export interface Reservation {
  release(): void;
}

/**
 * Where a person's runs an hour are counted. `reserve` checks and takes a slot in one
 * step, so that two requests arriving together can never both pass a limit of one: the
 * caller reserves before its first await and releases the slot when its request ends
 * without counting. A store shared by several instances (PostgreSQL is coming) would
 * implement it as one statement (insert the request where fewer than `perHour` are
 * recorded for that person in the last hour, in a serializable transaction).
 */
export interface RunAllowance {
  readonly perHour: number;
  /** A slot for `who`, or the seconds until one frees up. */
  reserve(who: string): Reservation | { retryAfter: number };
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
  private readonly starts = new Map<string, number[]>();

  constructor(
    readonly perHour: number,
    private readonly now: () => number = Date.now,
  ) {}

  reserve(who: string): Reservation | { retryAfter: number } {
    const recent = this.recent(who);
    if (recent.length >= this.perHour) {
      const oldest = recent[recent.length - this.perHour] ?? this.now();
      return { retryAfter: Math.max(1, Math.ceil((oldest + HOUR_MS - this.now()) / 1000)) };
    }
    const at = this.now();
    this.starts.set(who, [...recent, at]);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        const kept = this.starts.get(who) ?? [];
        const i = kept.indexOf(at);
        if (i >= 0) kept.splice(i, 1);
        if (kept.length === 0) this.starts.delete(who);
      },
    };
  }

  private recent(who: string): number[] {
    const since = this.now() - HOUR_MS;
    const kept = (this.starts.get(who) ?? []).filter((t) => t > since);
    if (kept.length === 0) this.starts.delete(who);
    else this.starts.set(who, kept);
    return kept;
  }
}
