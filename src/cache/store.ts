import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { StatusValidatorError } from '../errors.js';
import { FieldMemory } from './fields.js';
import { LimitMemory } from './limits.js';
import { NewerSchemaError, migrate } from './schema.js';

export interface CachedVerdict {
  key: string;
  verdict: 'VALID' | 'INVALID';
  issues: string[];
  suggestion: string;
  model: string;
  provider: string;
  /** ISO 8601 UTC time the answer was computed. */
  checkedAt: string;
  /** The model's confidence, 0..1. */
  confidence: number;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
}

export interface ReviewerVerdict {
  key: string;
  verdict: 'VALID' | 'INVALID';
  note: string;
  recordedAt: string;
}

interface VerdictRow {
  key: string;
  verdict: 'VALID' | 'INVALID';
  issues: string;
  suggestion: string;
  model: string;
  provider: string;
  checked_at: string;
  confidence: number;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
}

/**
 * The local SQLite cache: verdicts by cache key, run history and the run lock.
 * better-sqlite3 is synchronous, so every write here is one atomic transaction that
 * cannot interleave with another; a verdict is durable once `put` returns (WAL, and a
 * process crash never loses a committed transaction).
 */
export class CacheStore {
  readonly db: Database.Database;
  private readonly getStatement: Database.Statement<[string], VerdictRow>;
  private readonly putStatement: Database.Statement<VerdictRow>;

  private constructor(db: Database.Database) {
    this.db = db;
    this.getStatement = db.prepare('SELECT * FROM verdicts WHERE key = ?');
    this.putStatement = db.prepare(
      `INSERT INTO verdicts (key, verdict, issues, suggestion, model, provider, checked_at, confidence, prompt_tokens, completion_tokens, cached_tokens)
       VALUES (@key, @verdict, @issues, @suggestion, @model, @provider, @checked_at, @confidence, @prompt_tokens, @completion_tokens, @cached_tokens)
       ON CONFLICT (key) DO UPDATE SET verdict = excluded.verdict, issues = excluded.issues, suggestion = excluded.suggestion,
         model = excluded.model, provider = excluded.provider, checked_at = excluded.checked_at, confidence = excluded.confidence,
         prompt_tokens = excluded.prompt_tokens, completion_tokens = excluded.completion_tokens, cached_tokens = excluded.cached_tokens`,
    );
  }

  static open(file: string): CacheStore {
    try {
      mkdirSync(path.dirname(file), { recursive: true });
      const db = new Database(file);
      db.pragma('busy_timeout = 5000');
      // Switching a fresh file to WAL, and the first migration, can meet SQLITE_BUSY
      // without SQLite's busy handler ever waiting (several processes creating one file
      // at once): those two steps are retried for a while instead.
      whileBusy(() => db.pragma('journal_mode = WAL'));
      // FULL, not NORMAL: "A transaction committed in WAL mode with synchronous=NORMAL might
      // roll back following a power loss or system crash" (https://www.sqlite.org/pragma.html#pragma_synchronous,
      // https://www.sqlite.org/wal.html). A verdict is committed before the sheet shows it
      // (invariant 2): rolled back, it would be shown yet unknown, and paid for again. FULL
      // syncs the WAL at each commit: ~2 ms a commit on the test machine's disk (0.05 ms with
      // NORMAL); bench R1 (1,000 rows, 20 workers, 100 ms) showed no difference beyond noise
      // (6.4-7.2 s either way), the commits being far fewer than the model's latency allows.
      db.pragma('synchronous = FULL');
      whileBusy(() => migrate(db));
      return new CacheStore(db);
    } catch (error) {
      throw new StatusValidatorError(`Cannot open the cache ${file}: ${error instanceof Error ? error.message : String(error)}`, { hint: openHint(file, error), cause: error });
    }
  }

  get(key: string): CachedVerdict | undefined {
    const row = this.getStatement.get(key);
    return row && fromRow(row);
  }

  put(verdict: CachedVerdict): void {
    this.putStatement.run({
      key: verdict.key,
      verdict: verdict.verdict,
      issues: JSON.stringify(verdict.issues),
      suggestion: verdict.suggestion,
      model: verdict.model,
      provider: verdict.provider,
      checked_at: verdict.checkedAt,
      confidence: verdict.confidence,
      prompt_tokens: verdict.promptTokens,
      completion_tokens: verdict.completionTokens,
      cached_tokens: verdict.cachedTokens,
    });
  }

  /**
   * Saves a verdict unless the cache already holds one for its key computed at or after
   * `since` (a batch answer is as old as its job's submission): false when the newer one is kept.
   */
  putUnlessNewer(verdict: CachedVerdict, since: string): boolean {
    return this.db.transaction(() => {
      const stored = this.getStatement.get(verdict.key);
      if (stored && Date.parse(stored.checked_at) >= Date.parse(since)) return false;
      this.put(verdict);
      return true;
    })();
  }

  /** A reviewer's verdict for a key: ground truth, which no model answer replaces. */
  getOverride(key: string): ReviewerVerdict | undefined {
    return this.db.prepare('SELECT key, verdict, note, recorded_at AS recordedAt FROM overrides WHERE key = ?').get(key) as ReviewerVerdict | undefined;
  }

  /** Every reviewer verdict, by key: few enough to hold, and one query instead of one per row. */
  allOverrides(): Map<string, ReviewerVerdict> {
    const rows = this.db.prepare('SELECT key, verdict, note, recorded_at AS recordedAt FROM overrides').all() as ReviewerVerdict[];
    return new Map(rows.map((r) => [r.key, r]));
  }

  putOverride(verdict: ReviewerVerdict): void {
    this.db
      .prepare(
        `INSERT INTO overrides (key, verdict, note, recorded_at) VALUES (@key, @verdict, @note, @recordedAt)
         ON CONFLICT (key) DO UPDATE SET verdict = excluded.verdict, note = excluded.note, recorded_at = excluded.recorded_at
         WHERE overrides.verdict <> excluded.verdict OR overrides.note <> excluded.note`,
      )
      .run(verdict);
  }

  /** Average tokens of the cached answers: prices the naive baseline of a run that asked nothing. */
  averageTokens(): { promptTokens: number; completionTokens: number } | undefined {
    const row = this.db.prepare('SELECT count(*) AS n, avg(prompt_tokens) AS p, avg(completion_tokens) AS c FROM verdicts WHERE prompt_tokens > 0').get() as { n: number; p: number | null; c: number | null };
    return row.n > 0 && row.p !== null && row.c !== null ? { promptTokens: row.p, completionTokens: row.c } : undefined;
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM verdicts').get() as { n: number }).n;
  }

  /** False once closed (a run's end may meet a store its caller already closed). */
  get isOpen(): boolean {
    return this.db.open;
  }

  /**
   * Runs `fn` inside one transaction and returns its result: many lookups under one read
   * lock instead of one per query, and writes in it commit together. `fn` must be synchronous.
   */
  inTransaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** The per-minute limits learned from this cache's providers. */
  limitMemory(now?: () => number): LimitMemory {
    return new LimitMemory(this.db, now);
  }

  /** The request fields this cache's providers refused. */
  fieldMemory(now?: () => number): FieldMemory {
    return new FieldMemory(this.db, now);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/**
 * What to do when the cache will not open, by cause. The file holds every verdict paid
 * for: no hint may suggest throwing it away, since a new file means paying for every row again.
 */
function openHint(file: string, error: unknown): string {
  if (error instanceof NewerSchemaError) return `Upgrade status-validator to the version that wrote ${file} (or newer); this one leaves the file untouched.`;
  const raw = (error as { code?: unknown } | undefined)?.code;
  const code = typeof raw === 'string' ? raw : '';
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    return 'Another process kept the cache locked for more than 5 s (a run, a batch command, or a tool with the file open): wait for it to finish and try again. Nothing was changed.';
  }
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') {
    return `${file} is damaged or is not a status-validator cache. Keep it (it holds the verdicts already paid for): restore it from a backup, or salvage it with \`sqlite3 ${file} .recover | sqlite3 recovered.sqlite\` and point cache.path at the result. A new, empty file would ask (and pay for) every row again.`;
  }
  if (code === 'SQLITE_FULL') return 'The disk holding the cache is full: free some space and try again.';
  return `Check cache.path (${file}): its folder must exist or be creatable, and both the folder and the file must be writable by this user (SQLite writes -wal and -shm files next to it).`;
}

function fromRow(row: VerdictRow): CachedVerdict {
  return {
    key: row.key,
    verdict: row.verdict,
    issues: JSON.parse(row.issues) as string[],
    suggestion: row.suggestion,
    model: row.model,
    provider: row.provider,
    checkedAt: row.checked_at,
    confidence: row.confidence,
    promptTokens: row.prompt_tokens,
    completionTokens: row.completion_tokens,
    cachedTokens: row.cached_tokens,
  };
}

/** Runs a step again while SQLite answers SQLITE_BUSY, for up to BUSY_PATIENCE_MS (a synchronous wait: opening is synchronous). */
function whileBusy<T>(step: () => T): T {
  const deadline = Date.now() + BUSY_PATIENCE_MS;
  for (;;) {
    try {
      return step();
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'SQLITE_BUSY' || Date.now() > deadline) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20 + Math.random() * 80);
    }
  }
}

const BUSY_PATIENCE_MS = 10_000;
