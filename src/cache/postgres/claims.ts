import type { Claims } from '../contract.js';
import type { Db } from './db.js';

/** Claims on questions in flight (../contract.ts Claims), shared by every instance on the database. */
export function postgresClaims(db: Db): Claims {
  return {
    async claim(keys, holder, now, staleBefore) {
      if (keys.length === 0) return new Set();
      // One statement: taken when free, already the holder's, or stale; RETURNING names the keys now held.
      const rows = await db.rows<{ key: string }>(
        `INSERT INTO claims (key, holder, claimed_at) SELECT k, $2, $3 FROM unnest($1::text[]) AS k
         ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, claimed_at = excluded.claimed_at
         WHERE claims.holder = excluded.holder OR claims.claimed_at < $4 OR NOT EXISTS (SELECT 1 FROM locks WHERE locks.run_id = claims.holder COLLATE "C")
         RETURNING key`,
        [[...new Set(keys)], holder, now, staleBefore],
      );
      return new Set(rows.map((r) => r.key));
    },
    async holderOf(key) {
      const [row] = await db.rows<{ holder: string; claimed_at: string; live: number | boolean }>('SELECT holder, claimed_at, EXISTS (SELECT 1 FROM locks WHERE locks.run_id = claims.holder COLLATE "C") AS live FROM claims WHERE key = $1', [key]);
      return row ? { holder: row.holder, claimedAt: row.claimed_at, live: Boolean(row.live) } : undefined;
    },
    async release(keys, holder) {
      if (keys.length === 0) return;
      await db.rows('DELETE FROM claims WHERE key = ANY($1::text[]) AND holder = $2', [[...keys], holder]);
    },
  };
}
