import type { Database } from 'better-sqlite3';
import type { Claims } from '../contract.js';
import { settled } from './settled.js';
import { unsynced } from './group-commit.js';
import { reapIfGone } from '../lock.js';

/** A claim or a release waiting for its turn's transaction: `run` is its own statements, its result its caller's. */
interface Pending {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/**
 * Claims on questions in flight (../contract.ts Claims), in the file every process on it shares.
 *
 * Claimed and released without syncing the WAL (synchronous = NORMAL for these transactions
 * alone): a claim only matters while its holder lives, and what loses an unsynced commit (a
 * power loss, an OS crash: https://www.sqlite.org/wal.html) also ends every process on this
 * disk that could hold or wait for it; a process that crashes alone leaves its commits in
 * the OS's cache, seen by all. The next sync of the WAL (a verdict's) makes them durable too. Two
 * syncs fewer per question: at ~0.7 ms each, synchronous better-sqlite3 held the event loop
 * for 2 s of a 2,000-row run (bench B1).
 *
 * The claims and releases made in one turn of the event loop share one transaction (and one
 * pair of PRAGMA toggles), committed at the end of the turn (setImmediate), as the verdicts'
 * group commit does: with 50 workers each question's own claim and release transactions cost
 * ~2.4 s of a 30,000-row run's CPU (issue 25). Each call's statements run in call order inside
 * it, so each caller gets what it would alone, run after the calls made before it: of two
 * holders claiming one key in one turn the first gets it. Anything else that reads the claims
 * or changes what they depend on (holderOf; a run lock taken, beaten or dropped) commits the
 * waiting ones first (`flush`), so the order of calls holds across them too. A transaction
 * that throws (the file locked by another process past the busy timeout, the store closed)
 * rejects every call of its turn: rolled back, none of them took effect.
 */
export class SqliteClaims implements Claims {
  private waiting: Pending[] = [];
  private scheduled = false;
  private readonly claimStatement;
  private readonly holderStatement;
  private readonly releaseStatement;

  constructor(
    private readonly db: Database,
    /** Runs before each batch: the verdicts put earlier commit first (the store's order of calls). */
    private readonly before: () => void = () => {},
  ) {
    // Taken when free, already the holder's, or stale; a claim held by another, live, is left (0 changes).
    this.claimStatement = db.prepare<[string, string, string, string]>(
      `INSERT INTO claims (key, holder, claimed_at) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, claimed_at = excluded.claimed_at
       WHERE claims.holder = excluded.holder OR claims.claimed_at < ? OR NOT EXISTS (SELECT 1 FROM locks WHERE locks.run_id = claims.holder)`,
    );
    this.holderStatement = db.prepare<[string], { holder: string; claimed_at: string; live: number | boolean }>('SELECT holder, claimed_at, EXISTS (SELECT 1 FROM locks WHERE locks.run_id = claims.holder) AS live FROM claims WHERE key = ?');
    this.releaseStatement = db.prepare<[string, string]>('DELETE FROM claims WHERE key = ? AND holder = ?');
  }

  readonly claim = (keys: readonly string[], holder: string, now: string, staleBefore: string): Promise<Set<string>> =>
    this.add(() => {
      const mine = new Set<string>();
      for (const key of keys) if (this.claimStatement.run(key, holder, now, staleBefore).changes > 0) mine.add(key);
      return mine;
    });

  readonly holderOf = (key: string): Promise<{ holder: string; claimedAt: string; live: boolean } | undefined> =>
    settled(() => {
      this.flush();
      const row = this.holderStatement.get(key);
      if (!row) return undefined;
      // A lock row left by a killed run on this host is freed here: its claims are then taken over at once.
      const live = Boolean(row.live) && !reapIfGone(this.db, row.holder);
      return { holder: row.holder, claimedAt: row.claimed_at, live };
    });

  readonly release = (keys: readonly string[], holder: string): Promise<void> =>
    this.add(() => {
      for (const key of keys) this.releaseStatement.run(key, holder);
    });

  /** Commits the claims and releases waiting now, in one transaction; never throws (their callers get the failure). */
  flush(): void {
    this.scheduled = false;
    const batch = this.waiting;
    if (batch.length === 0) return;
    this.waiting = [];
    let results: unknown[];
    try {
      this.before();
      results = unsynced(this.db, () => batch.map(({ run }) => run()));
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      for (const { reject } of batch) reject(failure);
      return;
    }
    batch.forEach(({ resolve }, i) => resolve(results[i]));
  }

  private add<T>(run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ run, resolve: resolve as (value: unknown) => void, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => this.flush());
    });
  }
}
