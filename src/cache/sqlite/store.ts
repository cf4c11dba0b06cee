import { realpathSync } from 'node:fs';
import { SqliteClaims } from './claims.js';
import type Database from 'better-sqlite3';
import { answeredBatchQuestionsOf, pendingQuestionsOf } from '../batch-jobs.js';
import type { AnswerSizeStore, BatchJobStore, CalibrationStore, Claims, DumpChunk, EmbeddingStore, FieldStore, KeyLookup, LimitStore, Locks, RunLog, Store } from '../contract.js';
import type { CachedVerdict, ReviewerVerdict } from '../store.js';
import { sqliteAnswerSizes } from './answer-sizes.js';
import { sqliteCalibrations } from './calibrations.js';
import { rowFromVerdict, verdictFromRow, type VerdictRow } from '../verdict-row.js';
import { dumpTables, restoreChunk } from './dump.js';
import { settled } from './settled.js';
import { GroupCommit, walSync } from './group-commit.js';
import { openDatabase, type OpenSqliteOptions } from './open.js';
import { sqliteBatchJobs, sqliteEmbeddings, sqliteFields, sqliteLimits, sqliteLocks, sqliteRunLog } from './parts.js';

/**
 * The Store on one SQLite file (better-sqlite3): the embedded default, for processes that
 * share one local disk. better-sqlite3 is synchronous, so every write here is one atomic
 * transaction that cannot interleave with another; a verdict is durable once `put`
 * resolves (WAL with synchronous=FULL: src/cache/sqlite/open.ts).
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly location: string;
  /** The raw database, for tests that plant rows: not part of the Store (nothing in src/ outside src/cache/ may use it). */
  readonly db: Database.Database;
  readonly runs: RunLog;
  readonly locks: Locks;
  readonly embeddings: EmbeddingStore;
  readonly calibrations: CalibrationStore;
  readonly answerSizes: AnswerSizeStore;
  readonly claims: Claims;
  /** `claims`, whose claims and releases of one turn share one transaction (./claims.ts). */
  private readonly claimBatch: SqliteClaims;
  private readonly getStatement: Database.Statement<[string], VerdictRow>;
  private readonly putStatement: Database.Statement<VerdictRow>;
  /** lookup's read: its statement and transaction function made once (a run looks up once per turn of the event loop, issue 25). */
  private readonly lookupTransaction: (unique: string[]) => KeyLookup;
  /** `put`s of one turn of the event loop share one transaction (./group-commit.ts). */
  private readonly commits: GroupCommit<CachedVerdict>;
  private readonly wal: ReturnType<typeof walSync>;

  private constructor(db: Database.Database, file: string) {
    this.db = db;
    this.location = file;
    this.runs = sqliteRunLog(db);
    // The verdicts put before a claim commit before it; the claims made before a lock changes hands commit before it (call order).
    this.claimBatch = new SqliteClaims(db, () => this.commits.flush());
    this.claims = this.claimBatch;
    this.locks = sqliteLocks(db, () => this.claimBatch.flush());
    this.embeddings = sqliteEmbeddings(db);
    this.calibrations = sqliteCalibrations(db);
    this.answerSizes = sqliteAnswerSizes(db);
    this.getStatement = db.prepare('SELECT * FROM verdicts WHERE key = ?');
    this.putStatement = db.prepare(
      `INSERT INTO verdicts (key, verdict, issues, suggestion, model, provider, checked_at, confidence, prompt_tokens, completion_tokens, cached_tokens)
       VALUES (@key, @verdict, @issues, @suggestion, @model, @provider, @checked_at, @confidence, @prompt_tokens, @completion_tokens, @cached_tokens)
       ON CONFLICT (key) DO UPDATE SET verdict = excluded.verdict, issues = excluded.issues, suggestion = excluded.suggestion,
         model = excluded.model, provider = excluded.provider, checked_at = excluded.checked_at, confidence = excluded.confidence,
         prompt_tokens = excluded.prompt_tokens, completion_tokens = excluded.completion_tokens, cached_tokens = excluded.cached_tokens`,
    );
    const byKey = db.prepare<[string], VerdictRow>('SELECT * FROM verdicts WHERE key IN (SELECT value FROM json_each(?))');
    this.lookupTransaction = db.transaction((unique: string[]): KeyLookup => {
      const verdicts = new Map<string, CachedVerdict>();
      for (let start = 0; start < unique.length; start += LOOKUP_CHUNK) {
        for (const row of byKey.all(JSON.stringify(unique.slice(start, start + LOOKUP_CHUNK)))) {
          const verdict = fromRow(row);
          if (verdict) verdicts.set(verdict.key, verdict);
        }
      }
      const all = JSON.stringify(unique);
      return { verdicts, pending: pendingQuestionsOf(db, all), answeredBatches: answeredBatchQuestionsOf(db, all) };
    });
    const real = realpathSync(file);
    this.wal = walSync(real);
    this.commits = new GroupCommit(db, (verdict) => this.putSync(verdict), this.wal.sync, real);
  }

  /** Opens (creating it if need be) the cache file; refused on a network file system (exit 2). */
  static open(file: string, options: OpenSqliteOptions = {}): SqliteStore {
    return new SqliteStore(openDatabase(file, options), file);
  }

  get isOpen(): boolean {
    return this.db.open;
  }

  get(key: string): Promise<CachedVerdict | undefined> {
    return settled(() => {
      this.commits.flush();
      return this.getSync(key);
    });
  }

  /**
   * One read transaction for all the keys: SQLite takes its read lock once, and the
   * verdicts and the batch jobs are seen as of one moment. The keys go in as one JSON
   * parameter (json_each), so SQLite's limit on bound variables never applies, whatever
   * the tab's size; the verdicts are read a chunk at a time to bound each statement.
   */
  lookup(keys: readonly string[]): Promise<KeyLookup> {
    return settled(() => {
      this.commits.flush();
      return this.lookupTransaction([...new Set(keys)]);
    });
  }

  /** Durable once resolved: committed with the other verdicts answered in the same turn (./group-commit.ts). */
  put(verdict: CachedVerdict): Promise<void> {
    return this.commits.add(verdict);
  }

  putUnlessNewer(verdict: CachedVerdict, since: string): Promise<boolean> {
    return settled(() => {
      this.commits.flush();
      // A sync of the WAL failed: this commit's frames follow frames the disk may have lost (./group-commit.ts).
      const broken = this.commits.failure;
      if (broken) throw broken;
      return this.db.transaction(() => {
        const stored = this.getStatement.get(verdict.key);
        if (stored && Date.parse(stored.checked_at) >= Date.parse(since)) return false;
        this.putSync(verdict);
        return true;
      })();
    });
  }

  count(): Promise<number> {
    return settled(() => {
      return (this.db.prepare('SELECT count(*) AS n FROM verdicts').get() as { n: number }).n;
    });
  }

  averageTokens(): Promise<{ promptTokens: number; completionTokens: number } | undefined> {
    return settled(() => {
      const row = this.db.prepare('SELECT count(*) AS n, avg(prompt_tokens) AS p, avg(completion_tokens) AS c FROM verdicts WHERE prompt_tokens > 0').get() as { n: number; p: number | null; c: number | null };
      return row.n > 0 && row.p !== null && row.c !== null ? { promptTokens: row.p, completionTokens: row.c } : undefined;
    });
  }

  getOverride(key: string): Promise<ReviewerVerdict | undefined> {
    return settled(() => {
      return this.db.prepare('SELECT key, verdict, note, recorded_at AS recordedAt FROM overrides WHERE key = ?').get(key) as ReviewerVerdict | undefined;
    });
  }

  /** Every reviewer verdict, by key: few enough to hold, and one query instead of one per row. */
  allOverrides(): Promise<Map<string, ReviewerVerdict>> {
    return settled(() => {
      const rows = this.db.prepare('SELECT key, verdict, note, recorded_at AS recordedAt FROM overrides').all() as ReviewerVerdict[];
      return new Map(rows.map((r) => [r.key, r]));
    });
  }

  putOverrides(verdicts: readonly ReviewerVerdict[]): Promise<void> {
    return settled(() => {
      const upsert = this.db.prepare(
        `INSERT INTO overrides (key, verdict, note, recorded_at) VALUES (@key, @verdict, @note, @recordedAt)
         ON CONFLICT (key) DO UPDATE SET verdict = excluded.verdict, note = excluded.note, recorded_at = excluded.recorded_at
         WHERE overrides.verdict <> excluded.verdict OR overrides.note <> excluded.note`,
      );
      this.db.transaction(() => {
        for (const { key, verdict, note, recordedAt } of verdicts) upsert.run({ key, verdict, note, recordedAt });
      })();
    });
  }

  limitMemory(now?: () => number): LimitStore {
    return sqliteLimits(this.db, now);
  }

  fieldMemory(now?: () => number): FieldStore {
    return sqliteFields(this.db, now);
  }

  batchJobs<I = unknown>(): BatchJobStore<I> {
    return sqliteBatchJobs<I>(this.db);
  }

  dump(): AsyncIterable<DumpChunk> {
    return dumpTables(this.db);
  }

  restore(chunk: DumpChunk, counts?: { updated: number }): Promise<number> {
    return settled(() => {
      this.commits.flush();
      return restoreChunk(this.db, chunk, counts);
    });
  }

  async close(): Promise<void> {
    if (this.db.open) {
      this.claimBatch.flush();
      this.commits.flush();
    }
    await this.commits.settle();
    await this.wal.close();
    return settled(() => {
      if (this.db.open) this.db.close();
    });
  }

  private getSync(key: string): CachedVerdict | undefined {
    const row = this.getStatement.get(key);
    return row && fromRow(row);
  }

  private putSync(verdict: CachedVerdict): void {
    this.putStatement.run(rowFromVerdict(verdict));
  }
}

/** Keys per verdicts statement in `lookup`. */
const LOOKUP_CHUNK = 5_000;

/** A stored verdict; one whose issues are damaged JSON (a hand edit) is skipped: the row is asked again. */
function fromRow(row: VerdictRow): CachedVerdict | undefined {
  let issues: unknown;
  try {
    issues = JSON.parse(row.issues);
  } catch {
    return undefined;
  }
  if (!Array.isArray(issues)) return undefined;
  return verdictFromRow(row, issues.map(String));
}
