import type { Claims } from '../contract.js';
import type { Db } from './db.js';
import { advisoryKeySql } from './locks.js';

/** A claim (with its times) or a release; its keys without repeats. */
type Ask = { kind: 'claim'; keys: string[]; holder: string; now: string; staleBefore: string } | { kind: 'release'; keys: string[]; holder: string };
/** An Ask waiting for its turn's statement. */
type Call = Ask & { resolve: (held: Set<string>) => void; reject: (error: Error) => void };

/**
 * Claims on questions in flight (../contract.ts Claims), shared by every instance on the database.
 *
 * The claims and releases made in one turn of the event loop (50 workers answering together)
 * go to the server as one statement rather than one each: a round trip costs the process
 * ~50 µs of CPU, two per question (issue 25). Calls whose keys meet an earlier call's of the
 * same turn go in the next statement, after it: one INSERT ... ON CONFLICT cannot touch a row
 * twice, and so each caller gets what it would have got had the calls run one after another
 * in call order. Each statement is atomic and retried whole on connection faults (./db.ts), as a
 * call's own was: a claim retried after its commit's answer was lost finds its holder's own
 * claim and holds it, a release deletes nothing more. A statement that fails rejects each of
 * its calls. Turns do not wait for one another (as calls did not: the pool runs them at once).
 */
export function postgresClaims(db: Db): Claims & { settled(): Promise<void> } {
  let waiting: Call[] = [];
  /** Every statement of the calls made so far done (flush never rejects: a failure is its callers'). */
  let done: Promise<void> = Promise.resolve();
  const add = (ask: Ask) =>
    new Promise<Set<string>>((resolve, reject) => {
      waiting.push({ ...ask, resolve, reject });
      if (waiting.length > 1) return;
      const turn = new Promise<void>((ended) =>
        setImmediate(() => {
          const calls = waiting;
          waiting = [];
          void flush(db, calls).then(ended);
        }),
      );
      done = Promise.all([done, turn]).then(() => undefined);
    });
  return {
    claim: (keys, holder, now, staleBefore) => (keys.length === 0 ? Promise.resolve(new Set()) : add({ kind: 'claim', keys: [...new Set(keys)], holder, now, staleBefore })),
    /**
     * Resolves once the statements of the calls made before it are done: what reads the claims
     * or changes which runs hold a lock (holderOf, a run lock taken or dropped) goes after
     * them, so that each call sees what it would have in call order (as on SQLite).
     */
    settled: () => done,
    async holderOf(key) {
      await done;
      const [row] = await db.rows<{ holder: string; claimed_at: string; live: number | boolean }>(`SELECT holder, claimed_at, ${HOLDS_LOCK} AS live FROM claims WHERE key = $1`, [key]);
      return row ? { holder: row.holder, claimedAt: row.claimed_at, live: Boolean(row.live) } : undefined;
    },
    release: async (keys, holder) => {
      if (keys.length > 0) await add({ kind: 'release', keys: [...new Set(keys)], holder });
    },
  };
}

/**
 * Whether a claim's holder still holds its run lock: it has a locks row, and some session of
 * this database holds that lock's advisory lock (./locks.ts: the holder keeps it on a
 * connection of its own, and PostgreSQL frees it the moment that session ends). A killed
 * instance's row stays until the next acquirer of its sheet replaces it: judged by the row
 * alone, its claims held every other run's questions for CLAIM_STALE_MS. Judged by the lock's
 * key, not by the row's backend_pid: a holder that took its lock again on a new session has
 * not rewritten its row yet, and a pid reused by another session (another database's) holds
 * nothing of ours. The key is advisoryKey(name) computed by the server: sha256's first 8
 * bytes as a signed bigint, split into classid and objid as pg_locks shows it.
 */
const HOLDS_LOCK = `EXISTS (SELECT 1 FROM locks
    CROSS JOIN LATERAL (SELECT ${advisoryKeySql('locks.name')} AS key) k
    JOIN pg_locks p ON p.locktype = 'advisory' AND p.granted AND p.objsubid = 1
      AND p.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND p.classid::bigint = ((k.key >> 32) & 4294967295) AND p.objid::bigint = (k.key & 4294967295)
    WHERE locks.run_id = claims.holder COLLATE "C")`;

/**
 * Releases (the holder's own rows deleted) and claims (taken when free, already the holder's,
 * stale by the caller's own staleBefore, or held by a run without a lock) on keys that appear once
 * in the statement: their order within it does not matter. RETURNING names the keys claimed.
 */
const STATEMENT = `WITH released AS (
     DELETE FROM claims USING unnest($5::text[], $6::text[]) AS r(key, holder) WHERE claims.key = r.key AND claims.holder = r.holder
   )
   INSERT INTO claims (key, holder, claimed_at) SELECT key, holder, at FROM unnest($1::text[], $2::text[], $3::text[]) AS c(key, holder, at)
   ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, claimed_at = excluded.claimed_at
   WHERE claims.holder = excluded.holder
      OR claims.claimed_at < (SELECT s.before FROM unnest($1::text[], $4::text[]) AS s(key, before) WHERE s.key = excluded.key)
      OR NOT ${HOLDS_LOCK}
   RETURNING key`;

/** Runs a turn's calls, a statement per run of calls whose keys do not meet, in call order. */
async function flush(db: Db, turn: Call[]): Promise<void> {
  for (const calls of disjointRuns(turn)) {
    const claims = calls.flatMap((c) => (c.kind === 'claim' ? c.keys.map((key) => ({ key, holder: c.holder, now: c.now, staleBefore: c.staleBefore })) : []));
    const releases = calls.flatMap((c) => (c.kind === 'release' ? c.keys.map((key) => ({ key, holder: c.holder })) : []));
    let held: Set<string>;
    try {
      const rows = await db.rows<{ key: string }>(STATEMENT, [claims.map((c) => c.key), claims.map((c) => c.holder), claims.map((c) => c.now), claims.map((c) => c.staleBefore), releases.map((r) => r.key), releases.map((r) => r.holder)]);
      held = new Set(rows.map((r) => r.key));
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      for (const call of calls) call.reject(failure);
      continue;
    }
    // Each key is one call's alone here: the keys it returned are that call's.
    for (const call of calls) call.resolve(call.kind === 'claim' ? new Set(call.keys.filter((key) => held.has(key))) : new Set());
  }
}

/** The calls cut, in order, into runs in which no key appears twice. */
function disjointRuns(calls: readonly Call[]): Call[][] {
  const runs: Call[][] = [];
  let run: Call[] = [];
  let used = new Set<string>();
  for (const call of calls) {
    if (call.keys.some((key) => used.has(key))) {
      runs.push(run);
      run = [];
      used = new Set();
    }
    run.push(call);
    for (const key of call.keys) used.add(key);
  }
  if (run.length > 0) runs.push(run);
  return runs;
}
