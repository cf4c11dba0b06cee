import { postgresClaims } from './claims.js';
import type { Claims, DumpChunk, Store } from '../contract.js';
import { STALE_AFTER_MS } from '../lock.js';
import { PostgresBatchJobs } from './batch-jobs.js';
import { Db } from './db.js';
import { dumpTables, restoreChunk } from './dump.js';
import { PostgresEmbeddings } from './embeddings.js';
import { PostgresAnswerSizes } from './answer-sizes.js';
import { PostgresCalibrations } from './calibrations.js';
import { isConnectionFault, openFailure } from './faults.js';
import { PostgresLocks } from './locks.js';
import { PostgresFieldMemory, PostgresLimitMemory } from './memory.js';
import { PostgresRunLog } from './runs.js';
import { migratePostgres } from './schema.js';
import { targetOf } from './target.js';
import { Verdicts } from './verdicts.js';

export interface PostgresStoreOptions {
  /** The clock of the times this process stamps (runs' ends, batch jobs' updates, learned limits). Lock heartbeats use the server's. */
  now?: () => Date;
  /** How long opening may keep trying to reach the server (default 15 s; with one attempt's own timeout, an unreachable server fails within 30 s). */
  connectTimeoutMs?: number;
  /** How long a statement is retried through connection faults before the run stops (default 30 s). */
  commitPatienceMs?: number;
  /** A lock whose heartbeat stood still this long (by the server's clock) is taken over (default STALE_AFTER_MS; tests shorten it). */
  staleAfterMs?: number;
}

const OPEN_PATIENCE_MS = 15_000;
const ATTEMPT_TIMEOUT_MS = 10_000;
const COMMIT_PATIENCE_MS = 30_000;

/**
 * Opens the cache at a PostgreSQL URL (`cache.url`): connects (retrying a server that is
 * starting or briefly unreachable), brings the schema up to date, and returns the Store every
 * instance sharing the URL shares. Any failure is a StatusValidatorError naming host, port and
 * database, never the password.
 */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<Store> {
  const target = targetOf(url);
  const openPatience = options.connectTimeoutMs ?? OPEN_PATIENCE_MS;
  const db = new Db(url, target, {
    commitPatienceMs: options.commitPatienceMs ?? COMMIT_PATIENCE_MS,
    connectTimeoutMs: Math.max(1_000, Math.min(ATTEMPT_TIMEOUT_MS, openPatience)),
    now: options.now ?? (() => new Date()),
  });
  const start = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      const client = await db.pool.connect();
      let failure: unknown;
      try {
        await migratePostgres(client, target);
      } catch (error) {
        failure = error;
        throw error;
      } finally {
        client.release(failure !== undefined && isConnectionFault(failure) ? (failure as Error) : undefined);
      }
      break;
    } catch (error) {
      const waited = Date.now() - start;
      const delay = Math.min(2_000, 100 * 2 ** attempt) * (0.5 + Math.random() / 2);
      if (!isConnectionFault(error) || waited + delay > openPatience) {
        await db.close();
        throw openFailure(target, error, waited);
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
  return new PostgresStore(db, options.staleAfterMs ?? STALE_AFTER_MS);
}

class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly location: string;
  readonly runs: PostgresRunLog;
  readonly locks: PostgresLocks;
  readonly embeddings: PostgresEmbeddings;
  readonly calibrations: PostgresCalibrations;
  readonly answerSizes: PostgresAnswerSizes;
  readonly claims: Claims;
  private readonly verdicts: Verdicts;

  constructor(
    private readonly db: Db,
    staleAfterMs: number,
  ) {
    this.location = db.target.location;
    this.verdicts = new Verdicts(db);
    this.runs = new PostgresRunLog(db, db.options.now);
    const claims = postgresClaims(db);
    this.claims = claims;
    this.locks = new PostgresLocks(db, staleAfterMs, () => claims.settled());
    this.embeddings = new PostgresEmbeddings(db);
    this.calibrations = new PostgresCalibrations(db);
    this.answerSizes = new PostgresAnswerSizes(db, () => db.options.now().getTime());
  }

  get isOpen(): boolean {
    return this.db.isOpen;
  }

  get = (key: string) => this.verdicts.get(key);
  lookup = (keys: readonly string[]) => this.verdicts.lookup(keys);
  put = (verdict: Parameters<Store['put']>[0]) => this.verdicts.put(verdict);
  putUnlessNewer = (verdict: Parameters<Store['put']>[0], since: string) => this.verdicts.putUnlessNewer(verdict, since);
  count = () => this.verdicts.count();
  averageTokens = () => this.verdicts.averageTokens();
  getOverride = (key: string) => this.verdicts.getOverride(key);
  allOverrides = () => this.verdicts.allOverrides();
  putOverrides = (verdicts: Parameters<Store['putOverrides']>[0]) => this.verdicts.putOverrides(verdicts);

  limitMemory(now?: () => number): PostgresLimitMemory {
    return new PostgresLimitMemory(this.db, now ?? (() => this.db.options.now().getTime()));
  }

  fieldMemory(now?: () => number): PostgresFieldMemory {
    return new PostgresFieldMemory(this.db, now ?? (() => this.db.options.now().getTime()));
  }

  batchJobs<I = unknown>(): PostgresBatchJobs<I> {
    return new PostgresBatchJobs<I>(this.db, this.db.options.now);
  }

  dump(): AsyncIterable<DumpChunk> {
    return dumpTables(this.db);
  }

  restore(chunk: DumpChunk, counts?: { updated: number }): Promise<number> {
    return restoreChunk(this.db, chunk, counts);
  }

  async close(): Promise<void> {
    if (!this.db.isOpen) return;
    await this.locks.releaseAll();
    await this.db.close();
  }
}
