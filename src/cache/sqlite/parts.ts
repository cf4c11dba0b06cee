import type { Database } from 'better-sqlite3';
import { SqliteBatchJobs } from '../batch-jobs.js';
import type { BatchJobStore, EmbeddingStore, FieldStore, LimitStore, Locks, RunLog } from '../contract.js';
import { SqliteEmbeddings } from '../embeddings.js';
import { FieldMemory } from '../fields.js';
import { LimitMemory } from '../limits.js';
import { acquireLock, lockHolder } from '../lock.js';
import { recentRuns, recordRunEnd, recordRunRequest, recordRunStart } from '../runs.js';

/*
 * The Store's parts on better-sqlite3: each async method runs the synchronous call it
 * wraps (an exception becomes the promise's rejection). better-sqlite3 never yields, so
 * each call is one atomic step, as before the Store was async.
 */

export function sqliteRunLog(db: Database): RunLog {
  return {
    start: async (run) => recordRunStart(db, run),
    end: async (id, status, summary) => recordRunEnd(db, id, status, summary),
    request: async (id, request) => recordRunRequest(db, id, request),
    recent: async (limit, targets) => recentRuns(db, limit, targets),
  };
}

/** The run locks (src/cache/lock.ts): one BEGIN IMMEDIATE transaction decides; no session, so `lost` is never set. */
export function sqliteLocks(db: Database): Locks {
  return {
    acquire: async (name, runId, options = {}) => {
      const lock = acquireLock(db, name, runId, options.now, options.label ?? name);
      return {
        tookOver: lock.tookOver,
        heartbeat: async () => lock.heartbeat(),
        release: async () => lock.release(),
      };
    },
    holder: async (name) => lockHolder(db, name),
  };
}

export function sqliteLimits(db: Database, now?: () => number): LimitStore {
  const memory = new LimitMemory(db, now);
  return { recall: async (of) => memory.recall(of), learn: async (of, limits) => memory.learn(of, limits) };
}

export function sqliteFields(db: Database, now?: () => number): FieldStore {
  const memory = new FieldMemory(db, now);
  return { recall: async (of) => memory.recall(of), learn: async (of, field, message) => memory.learn(of, field, message) };
}

export function sqliteBatchJobs<I>(db: Database): BatchJobStore<I> {
  const jobs = new SqliteBatchJobs<I>(db);
  return {
    record: async (job, lines) => jobs.record(job, lines),
    update: async (id, fields) => jobs.update(id, fields),
    markApplied: async (id, summary) => jobs.markApplied(id, summary),
    get: async (id) => jobs.get(id),
    list: async (filter) => jobs.list(filter),
    lines: async (id) => jobs.lines(id),
    pendingKeys: async () => jobs.pendingKeys(),
  };
}

export function sqliteEmbeddings(db: Database): EmbeddingStore {
  const embeddings = new SqliteEmbeddings(db);
  return {
    previous: async (key) => embeddings.previous(key),
    put: async (key, status, model, scope, vector) => embeddings.put(key, status, model, scope, vector),
    count: async (partition) => embeddings.count(partition),
    vectors: (partition) => embeddings.vectors(partition),
  };
}
