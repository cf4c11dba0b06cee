import type { Database } from 'better-sqlite3';
import type { Claims } from '../contract.js';
import { settled } from './settled.js';
import { unsynced } from './group-commit.js';

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
 */
export function sqliteClaims(db: Database): Claims {
  // Taken when free, already the holder's, or stale; a claim held by another, live, is left (0 changes).
  const claim = db.prepare<[string, string, string, string]>(
    `INSERT INTO claims (key, holder, claimed_at) VALUES (?, ?, ?)
     ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, claimed_at = excluded.claimed_at
     WHERE claims.holder = excluded.holder OR claims.claimed_at < ? OR NOT EXISTS (SELECT 1 FROM locks WHERE locks.run_id = claims.holder)`,
  );
  const holderOf = db.prepare<[string], { holder: string; claimed_at: string; live: number | boolean }>('SELECT holder, claimed_at, EXISTS (SELECT 1 FROM locks WHERE locks.run_id = claims.holder) AS live FROM claims WHERE key = ?');
  const release = db.prepare<[string, string]>('DELETE FROM claims WHERE key = ? AND holder = ?');
  return {
    claim: (keys, holder, now, staleBefore) =>
      settled(() =>
        unsynced(db, () => {
          const mine = new Set<string>();
          for (const key of keys) if (claim.run(key, holder, now, staleBefore).changes > 0) mine.add(key);
          return mine;
        }),
      ),
    holderOf: (key) =>
      settled(() => {
        const row = holderOf.get(key);
        return row ? { holder: row.holder, claimedAt: row.claimed_at, live: Boolean(row.live) } : undefined;
      }),
    release: (keys, holder) =>
      settled(() => {
        unsynced(db, () => {
          for (const key of keys) release.run(key, holder);
        });
      }),
  };
}
