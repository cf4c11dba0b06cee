import type { Database } from 'better-sqlite3';
import { SqliteBatchJobs } from '../batch-jobs.js';
import type { BatchJobStore, EmbeddingStore, FieldStore, LimitStore, Locks, RunLog } from '../contract.js';
import { SqliteEmbeddings } from '../embeddings.js';
import { FieldMemory } from '../fields.js';
import { LimitMemory } from '../limits.js';
import { acquireLock, lockHolder } from '../lock.js';
import { asyncOf, settled } from './settled.js';
import { recentRuns, recordRunEnd, recordRunRequest, recordRunStart } from '../runs.js';

/*
 * The Store's parts on better-sqlite3: each async method runs the synchronous call it
 * wraps (an exception becomes the promise's rejection). better-sqlite3 never yields, so
 * each call is one atomic step, as before the Store was async.
 */

export function sqliteRunLog(db: Database): RunLog {
  return {
    start: (run) => settled(() => recordRunStart(db, run)),
    end: (id, status, summary) => settled(() => recordRunEnd(db, id, status, summary)),
    request: (id, request) => settled(() => recordRunRequest(db, id, request)),
    recent: (limit, targets) => settled(() => recentRuns(db, limit, targets)),
  };
}

/**
 * The run locks (src/cache/lock.ts): one BEGIN IMMEDIATE transaction decides; no session, so `lost` is never set.
 * `before` runs first in each call that takes or drops a lock (the claims waiting for their turn's commit, whose outcome depends on which runs hold one).
 */
export function sqliteLocks(db: Database, before: () => void = () => {}): Locks {
  return {
    acquire: (name, runId, options = {}) =>
      settled(() => {
        before();
        const lock = acquireLock(db, name, runId, options.now, options.label ?? name);
        return {
          tookOver: lock.tookOver,
          heartbeat: () => settled(() => lock.heartbeat()),
          release: () =>
            settled(() => {
              before();
              lock.release();
            }),
        };
      }),
    holder: (name) => settled(() => lockHolder(db, name)),
  };
}

export function sqliteLimits(db: Database, now?: () => number): LimitStore {
  const memory = new LimitMemory(db, now);
  return { recall: (of) => settled(() => memory.recall(of)), learn: (of, limits) => settled(() => memory.learn(of, limits)) };
}

export function sqliteFields(db: Database, now?: () => number): FieldStore {
  const memory = new FieldMemory(db, now);
  return { recall: (of) => settled(() => memory.recall(of)), learn: (of, field, message) => settled(() => memory.learn(of, field, message)) };
}

export function sqliteBatchJobs<I>(db: Database): BatchJobStore<I> {
  const jobs = new SqliteBatchJobs<I>(db);
  return {
    record: (job, lines) => settled(() => jobs.record(job, lines)),
    update: (id, fields) => settled(() => jobs.update(id, fields)),
    markApplied: (id, summary) => settled(() => jobs.markApplied(id, summary)),
    get: (id) => settled(() => jobs.get(id)),
    list: (filter) => settled(() => jobs.list(filter)),
    lines: (id) => settled(() => jobs.lines(id)),
    pendingKeys: () => settled(() => jobs.pendingKeys()),
  };
}

export function sqliteEmbeddings(db: Database): EmbeddingStore {
  const embeddings = new SqliteEmbeddings(db);
  return {
    previous: (key) => settled(() => embeddings.previous(key)),
    put: (key, status, model, scope, vector) => settled(() => embeddings.put(key, status, model, scope, vector)),
    count: (partition) => settled(() => embeddings.count(partition)),
    vectors: (partition) => asyncOf(() => embeddings.vectors(partition)),
  };
}
