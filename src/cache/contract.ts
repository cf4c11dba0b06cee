/**
 * The Store: everything the bot remembers, as the rest of the code sees it (issue 21).
 * Two implementations keep it: one on better-sqlite3 (the embedded default: one disk,
 * one process family) and one on PostgreSQL (`cache.url`: every instance shares it).
 * Nothing outside src/cache/ sees SQL or a database handle; everything here is async,
 * so that a network store fits the same shape as the file.
 *
 * What both must keep (the contract suite, test/contract/, runs against each):
 * - a verdict is durable once `put` resolves (invariant 2: the sheet shows it only after);
 * - `locks.acquire` lets exactly one holder per name hold a lock at a time, across every
 *   process sharing the store (invariant 8), and frees a dead holder's lock;
 * - no method leaks a secret (a URL's password) into an error message;
 * - reads never fail on a damaged JSON text: it shows as null, or the row is skipped.
 */
import type { PendingBatch, BatchJob, BatchLine } from './batch-jobs.js';
import type { StoredEmbedding, EmbeddingPartition } from './embeddings.js';
import type { FieldsOf } from './fields.js';
import type { KnownLimits, LimitsOf } from './limits.js';
import type { RunRecord, RunRequest, StoredRun } from './runs.js';
import type { CachedVerdict, ReviewerVerdict } from './store.js';

export type StoreKind = 'sqlite' | 'postgres';

/** What the selection of a run needs to know about its keys, read as one snapshot. */
export interface KeyLookup {
  /** The model's verdicts stored under these keys. */
  verdicts: ReadonlyMap<string, CachedVerdict>;
  /** Keys asked by a Batch API job whose results are not applied yet (invariant 9). */
  pending: ReadonlyMap<string, PendingBatch>;
  /** When each key was last sent in a batch job whose results were applied (its submission time). */
  answeredBatches: ReadonlyMap<string, string>;
}

export interface Store {
  readonly kind: StoreKind;
  /** Where it lives, for messages: the file, or host:port/database (never a password). */
  readonly location: string;
  /** False once closed. */
  readonly isOpen: boolean;

  get(key: string): Promise<CachedVerdict | undefined>;
  /** Many keys at once, in one consistent read (one transaction): the run's selection. */
  lookup(keys: readonly string[]): Promise<KeyLookup>;
  /** Saves (or replaces) a verdict; resolved = committed. */
  put(verdict: CachedVerdict): Promise<void>;
  /**
   * Saves a verdict unless the store already holds one for its key computed at or after
   * `since` (a batch answer is as old as its job's submission): false when the newer one is kept.
   */
  putUnlessNewer(verdict: CachedVerdict, since: string): Promise<boolean>;
  count(): Promise<number>;
  /** Average tokens of the stored answers (prices the naive baseline); undefined when none. */
  averageTokens(): Promise<{ promptTokens: number; completionTokens: number } | undefined>;

  /** Reviewers' verdicts: ground truth, which no model answer replaces. */
  getOverride(key: string): Promise<ReviewerVerdict | undefined>;
  allOverrides(): Promise<Map<string, ReviewerVerdict>>;
  /** Saves reviewers' verdicts in one transaction (unchanged ones keep their recorded time). */
  putOverrides(verdicts: readonly ReviewerVerdict[]): Promise<void>;

  readonly runs: RunLog;
  readonly locks: Locks;
  /** The per-minute limits learned from providers' headers (`now` injectable for tests). */
  limitMemory(now?: () => number): LimitStore;
  /** The request fields providers refused by name. */
  fieldMemory(now?: () => number): FieldStore;
  /** The Batch API jobs (inputs typed by the caller: the store keeps them as JSON). */
  batchJobs<I = unknown>(): BatchJobStore<I>;
  readonly embeddings: EmbeddingStore;
  /** The thresholds a model cascade was calibrated to (llm.cascade), by scope (issue 24). */
  readonly calibrations: CalibrationStore;
  /** How many tokens answers take, per endpoint, model and prompt (issue 25: what a request reserves). */
  readonly answerSizes: AnswerSizeStore;

  /** Everything the store holds, a table at a time in chunks (for `cache migrate`). */
  dump(): AsyncIterable<DumpChunk>;
  /**
   * Adds a dump's rows, keeping rows already present: restoring twice changes nothing. Returns
   * the rows added. A run the target holds as running while the dump's has ended, and a batch
   * job not applied in the target that the dump has applied or updated since, take the dump's
   * state instead (./catch-up.ts): those are counted in `counts.updated`.
   */
  restore(chunk: DumpChunk, counts?: { updated: number }): Promise<number>;

  /** Questions in flight across processes sharing this store (invariant 9). */
  readonly claims: Claims;

  close(): Promise<void>;
}

/**
 * Claims on questions being asked, so that two instances sharing a store do not both pay for
 * one: the first to claim a key asks; another waits for its verdict (src/pipeline/claims.ts).
 * Times are ISO 8601 UTC text of the claiming process's clock. Claims and releases made in one
 * turn of the event loop may be coalesced (one transaction or statement: issue 25), but each call
 * gets what it would have got had they run one after another in call order.
 */
export interface Claims {
  /**
   * Claims the keys for run `holder` at `now`: the keys it now holds (unclaimed, already its
   * own, or taken over from a claim made before `staleBefore` or whose holder holds no run
   * lock any more: killed, its lock taken over, or ended).
   */
  claim(keys: readonly string[], holder: string, now: string, staleBefore: string): Promise<Set<string>>;
  /** Who holds a key's claim, since when, and whether that run still holds a lock; undefined when nobody does. */
  holderOf(key: string): Promise<{ holder: string; claimedAt: string; live: boolean } | undefined>;
  /** Drops the holder's claims on these keys (its answers committed, or its request failed). */
  release(keys: readonly string[], holder: string): Promise<void>;
}

export interface RunLog {
  start(run: RunRecord): Promise<void>;
  /** The run's end; its summary's target and group are recorded too. */
  end(id: string, status: string, summary: unknown): Promise<void>;
  /** Adds what a caller of serve asked for to a run already started. */
  request(id: string, request: RunRequest): Promise<void>;
  /** The most recent runs first (a group's rows together); `targets` keeps those targets' runs. */
  recent(limit: number, targets?: readonly string[]): Promise<StoredRun[]>;
}

export interface LockHolder {
  runId: string;
  pid: number;
  host: string;
  startedAt: string;
  heartbeatAt: string;
}

export interface Locks {
  /**
   * Takes the lock `name` for run `runId`, or throws LockedError naming the holder
   * (`label` is how messages name the lock). A holder whose process died, or whose
   * heartbeat stood still too long, is replaced (`tookOver` says so).
   */
  acquire(name: string, runId: string, options?: { now?: () => Date; label?: string }): Promise<AcquiredLock>;
  /** Who holds a lock now, if anyone. */
  holder(name: string): Promise<LockHolder | undefined>;
}

export interface AcquiredLock {
  /** Renews the lock; false when it is no longer ours (taken over, or its session lost): the run must stop. */
  heartbeat(): Promise<boolean>;
  release(): Promise<void>;
  /** Who held the lock before, and why they no longer do (a warning for the summary). */
  readonly tookOver: string | undefined;
  /** Aborted as soon as the store knows the lock is lost (PostgreSQL: its session's connection dropped), without waiting for a heartbeat. */
  readonly lost?: AbortSignal;
}

export interface LimitStore {
  /** The limits to start at, or undefined when there are none fresh and uncontradicted. */
  recall(of: LimitsOf): Promise<KnownLimits | undefined>;
  /** What the headers stated (undefined: a 429 contradicted what was known). */
  learn(of: LimitsOf, limits: KnownLimits | undefined): Promise<void>;
}

export interface FieldStore {
  recall(of: FieldsOf): Promise<string[]>;
  learn(of: FieldsOf, field: string, message: string): Promise<void>;
}

export interface BatchJobStore<I = unknown> {
  record(job: Omit<BatchJob, 'outputFileId' | 'errorFileId' | 'appliedAt' | 'updatedAt'>, lines: readonly BatchLine<I>[]): Promise<void>;
  update(id: string, fields: { status: string; outputFileId?: string | null; errorFileId?: string | null }): Promise<void>;
  markApplied(id: string, summary: unknown): Promise<void>;
  get(id: string): Promise<BatchJob | undefined>;
  /** Newest first; `open` keeps the jobs whose results have not been applied yet. */
  list(filter?: { spreadsheetId?: string; sheet?: string; open?: boolean }): Promise<BatchJob[]>;
  /** The questions of a job, grouped by the line (custom_id) that asks them. */
  lines(id: string): Promise<Map<string, BatchLine<I>[]>>;
  /** Keys in a job not applied yet (nor failed, cancelled, expired). */
  pendingKeys(): Promise<Set<string>>;
}

export interface EmbeddingStore {
  previous(key: string): Promise<StoredEmbedding | undefined>;
  put(key: string, status: string, model: string, scope: string, vector: Buffer): Promise<void>;
  count(partition: EmbeddingPartition): Promise<number>;
  /** A partition's vectors, read in chunks (never the whole table at once). */
  vectors(partition: EmbeddingPartition): AsyncIterable<{ key: string; vector: Buffer }>;
}

/**
 * A cascade's calibration, by a scope key naming everything it depends on (rules, the two
 * models, the prompt version, the target): the record is the caller's JSON, kept whole.
 */
export interface CalibrationStore {
  /** The calibration kept for a scope; its record is null when the stored text is damaged. */
  get(scope: string): Promise<StoredCalibration | undefined>;
  /** Saves (or replaces) a scope's calibration. */
  put(scope: string, record: unknown, calibratedAt: string): Promise<void>;
}

/** Which answers: one endpoint (its base URL), one model, one prompt (rules digest, answer shape, rows per request). */
export interface AnswerSizesOf {
  provider: string;
  model: string;
  prompt: string;
}

/**
 * The sizes (completion tokens) of the last answers to one prompt, as src/llm/reserve.ts keeps
 * them: a short list, replaced whole. Several instances on one store each save their own
 * window: the last to save wins, which loses nothing a run needs (each window is a fair sample).
 */
export interface AnswerSizeStore {
  /** The sizes kept, oldest first; [] when none, or when the kept text is damaged (a hand edit). */
  recall(of: AnswerSizesOf): Promise<number[]>;
  /** Replaces the sizes kept. */
  learn(of: AnswerSizesOf, sizes: readonly number[]): Promise<void>;
}

export interface StoredCalibration {
  scope: string;
  record: unknown;
  calibratedAt: string;
}

/** The tables a dump carries, in the order a restore needs them (jobs before their lines). */
export const DUMP_TABLES = ['verdicts', 'overrides', 'runs', 'batch_jobs', 'batch_lines', 'provider_limits', 'provider_fields', 'embeddings', 'calibrations', 'answer_sizes'] as const;
export type DumpTable = (typeof DUMP_TABLES)[number];

/** Rows of one table, by column name as the schema names them (BLOBs as Buffers). */
export interface DumpChunk {
  table: DumpTable;
  rows: Record<string, unknown>[];
}
