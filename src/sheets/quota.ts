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
    /** A quota this one's calls also count against (the project's, shared by its service accounts). */
    private readonly parent?: QuotaPacer,
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
    return Math.max(0, this.blockedUntil - now, Math.max(this.tat, now) - early - now, this.parent?.delay(reserve) ?? 0);
  }

  /** Waits for a slot and takes it. Returns how long it waited. */
  async take(signal?: AbortSignal): Promise<number> {
    let waited = 0;
    for (let wait = this.delay(); wait > 0; wait = this.delay()) {
      await sleep(wait, signal);
      waited += wait;
    }
    this.count();
    return waited;
  }

  /** Counts a call that goes now (here and in the parent quota). */
  private count(): void {
    this.tat = Math.max(this.tat, this.now()) + this.intervalMs;
    this.parent?.count();
  }

  /**
   * Holds every call back for `ms` after the server said 429 despite the pacing: the
   * parent's too, since the 429 may have been the project's quota.
   */
  penalize(ms: number): void {
    this.blockedUntil = Math.max(this.blockedUntil, this.now() + ms);
    this.parent?.penalize(ms);
  }
}

/**
 * Google's Sheets quotas, per kind of call: "Per minute per project 300" and "Per minute
 * per user per project 60" (developers.google.com/workspace/sheets/api/limits). A
 * service account is the user; the project is the one its key belongs to.
 */
export const PROJECT_QUOTA_PER_MINUTE = 300;

export interface AccountPacers {
  reads: QuotaPacer;
  writes: QuotaPacer;
}

/**
 * The burst of the pacers (a service account's and its project's). After its last answer a
 * run makes two calls of each kind back to back: the final flush (a verify read, a write)
 * and the look of the columns (a read, and a write when something is missing:
 * column-look.ts). The writer's regular flushes keep all but one slot of the burst in
 * reserve (SheetWriter), the project's as well, so both go at once instead of the second
 * waiting an interval (~1 s at 60 a minute, a quarter of a 4 s run; at the project's 300 a
 * minute, 0.2 s: bench B1). The interval grows to match: no 60 s window holds more than the quota.
 */
export const ACCOUNT_BURST = 3;

/** Whose quota: a service account of a project, on one Sheets endpoint, with the quotas its config states. */
export interface QuotaOwner {
  account: string;
  project: string;
  /** The API root (an emulator's); undefined for Google's. */
  apiRoot?: string | undefined;
  readsPerMinute: number;
  writesPerMinute: number;
}

/**
 * One pair of pacers per service account and one per project, for the whole process:
 * commands that share an account (watch and serve in one process, several targets)
 * share its quota, so they must share its pacer. Configs that disagree about an
 * account's quota get a pacer each (each keeps to what it was told).
 */
export class PacerRegistry {
  private readonly accounts = new Map<string, AccountPacers>();
  private readonly projects = new Map<string, AccountPacers>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The pacers of an account, made on first use. */
  forAccount(owner: QuotaOwner): AccountPacers {
    const project = `${owner.apiRoot ?? 'google'}\n${owner.project}`;
    const key = `${project}\n${owner.account}\n${owner.readsPerMinute}/${owner.writesPerMinute}`;
    let pacers = this.accounts.get(key);
    if (!pacers) {
      const shared = this.forProject(project, owner);
      pacers = {
        reads: new QuotaPacer(owner.readsPerMinute, this.now, ACCOUNT_BURST, shared.reads),
        writes: new QuotaPacer(owner.writesPerMinute, this.now, ACCOUNT_BURST, shared.writes),
      };
      this.accounts.set(key, pacers);
    }
    return pacers;
  }

  /** A project's quota is Google's default, or the user quota when that was raised above it. */
  private forProject(project: string, owner: QuotaOwner): AccountPacers {
    let pacers = this.projects.get(project);
    if (!pacers) {
      pacers = {
        reads: new QuotaPacer(Math.max(PROJECT_QUOTA_PER_MINUTE, owner.readsPerMinute), this.now, ACCOUNT_BURST),
        writes: new QuotaPacer(Math.max(PROJECT_QUOTA_PER_MINUTE, owner.writesPerMinute), this.now, ACCOUNT_BURST),
      };
      this.projects.set(project, pacers);
    }
    return pacers;
  }
}

/** The process's pacers (see {@link PacerRegistry}). */
export const processPacers = new PacerRegistry();
