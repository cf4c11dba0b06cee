import type { Database } from 'better-sqlite3';

/**
 * The schema, as the steps that build it: file version N has run the first N. Append a
 * step to change the tables (never edit one that has shipped); `migrate` runs the missing ones.
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE verdicts (
     key TEXT PRIMARY KEY,
     verdict TEXT NOT NULL CHECK (verdict IN ('VALID', 'INVALID')),
     issues TEXT NOT NULL,
     suggestion TEXT NOT NULL,
     model TEXT NOT NULL,
     provider TEXT NOT NULL,
     checked_at TEXT NOT NULL,
     prompt_tokens INTEGER NOT NULL DEFAULT 0,
     completion_tokens INTEGER NOT NULL DEFAULT 0,
     cached_tokens INTEGER NOT NULL DEFAULT 0
   ) WITHOUT ROWID;
   CREATE TABLE runs (
     id TEXT PRIMARY KEY,
     started_at TEXT NOT NULL,
     ended_at TEXT,
     trigger TEXT NOT NULL,
     spreadsheet_id TEXT NOT NULL,
     sheet TEXT NOT NULL,
     status TEXT NOT NULL,
     summary TEXT
   );
   CREATE TABLE locks (
     name TEXT PRIMARY KEY,
     run_id TEXT NOT NULL,
     pid INTEGER NOT NULL,
     host TEXT NOT NULL,
     started_at TEXT NOT NULL,
     heartbeat_at TEXT NOT NULL
   );`,
  // Reviewers' verdicts, kept apart from the model's so that eval can compare them.
  `CREATE TABLE overrides (
     key TEXT PRIMARY KEY,
     verdict TEXT NOT NULL CHECK (verdict IN ('VALID', 'INVALID')),
     note TEXT NOT NULL,
     recorded_at TEXT NOT NULL
   ) WITHOUT ROWID;`,
  `ALTER TABLE verdicts ADD COLUMN confidence REAL NOT NULL DEFAULT 1;`,
  // Batch API jobs survive restarts: what was sent, so results can be applied days later.
  `CREATE TABLE batch_jobs (
     id TEXT PRIMARY KEY,
     provider TEXT NOT NULL,
     model TEXT NOT NULL,
     spreadsheet_id TEXT NOT NULL,
     sheet TEXT NOT NULL,
     input_file_id TEXT NOT NULL,
     status TEXT NOT NULL,
     requests INTEGER NOT NULL,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL,
     output_file_id TEXT,
     error_file_id TEXT,
     applied_at TEXT,
     applied_summary TEXT
   );
   CREATE TABLE batch_lines (
     batch_id TEXT NOT NULL,
     custom_id TEXT NOT NULL,
     label TEXT NOT NULL,
     key TEXT NOT NULL,
     inputs TEXT NOT NULL,
     PRIMARY KEY (batch_id, custom_id, label)
   ) WITHOUT ROWID;`,
  // Semantic cache (src/semantic): the embedding of each answered row's text, float32 little-endian;
  // the verdict itself stays in verdicts under the same key. `scope` names the rules etc. the verdict
  // was computed under. Rows hold kilobyte blobs, so keep the rowid.
  `CREATE TABLE embeddings (
     key TEXT PRIMARY KEY,
     status TEXT NOT NULL,
     model TEXT NOT NULL,
     scope TEXT NOT NULL DEFAULT '',
     vector BLOB NOT NULL
   );
   CREATE INDEX embeddings_by_partition ON embeddings (model, scope, status);`,
  // A lock's holder is its host, pid and process start (src/cache/process-start.ts): a recycled pid is another process.
  `ALTER TABLE locks ADD COLUMN process_start TEXT;`,
  // Rate limits learned from a provider's headers (src/cache/limits.ts), by the key's sha256, never the key.
  `CREATE TABLE provider_limits (
     provider TEXT NOT NULL,
     model TEXT NOT NULL,
     key_hash TEXT NOT NULL,
     rpm INTEGER,
     tpm INTEGER,
     learned_at INTEGER NOT NULL,
     contradicted INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (provider, model, key_hash)
   ) WITHOUT ROWID;`,
  // Who triggered a run from serve (an email, or "token" for the machine token) and what they asked: rows (JSON list or NULL for all), force, the estimate.
  `ALTER TABLE runs ADD COLUMN triggered_by TEXT;
   ALTER TABLE runs ADD COLUMN request TEXT;`,
  // Issue 14: a config lists targets. A run records its target's name and the group of runs started
  // together; a batch job its target's name (for display; jobs are matched to a tab by spreadsheet and
  // sheet). Older rows get the tab name (a single-target file's target is its tab) or what their summary
  // says; json_valid first, since json_extract fails the whole statement on one malformed summary.
  `ALTER TABLE runs ADD COLUMN target TEXT;
   ALTER TABLE runs ADD COLUMN run_group TEXT;
   UPDATE runs SET
     target = coalesce(CASE WHEN json_valid(summary) THEN json_extract(summary, '$.target') END, sheet),
     run_group = CASE WHEN json_valid(summary) THEN json_extract(summary, '$.group') END;
   CREATE INDEX runs_by_group ON runs (run_group);
   ALTER TABLE batch_jobs ADD COLUMN target TEXT;
   UPDATE batch_jobs SET target = sheet;`,
  // Issue 18: another host's clock is not ours, so its heartbeat_at cannot say how long it has
  // been silent. The holder counts its heartbeats (beat); each host that finds the lock held
  // notes the beat it saw and when, by its own clock (lock_sightings, src/cache/lock.ts).
  `ALTER TABLE locks ADD COLUMN beat INTEGER NOT NULL DEFAULT 0;
   CREATE TABLE lock_sightings (
     name TEXT NOT NULL,
     host TEXT NOT NULL,
     run_id TEXT NOT NULL,
     beat INTEGER NOT NULL,
     seen_at TEXT NOT NULL,
     PRIMARY KEY (name, host)
   ) WITHOUT ROWID;`,
  // Issue 20: request fields a provider refused by name (a 400), so that later runs leave them out from the start.
  `CREATE TABLE provider_fields (
     provider TEXT NOT NULL,
     model TEXT NOT NULL,
     field TEXT NOT NULL,
     learned_at INTEGER NOT NULL,
     message TEXT NOT NULL,
     PRIMARY KEY (provider, model, field)
   ) WITHOUT ROWID;`,
  // A holder of the release before the beat count renews heartbeat_at alone (its beat stays
  // 0): a sighting notes the heartbeat_at it saw as well, and a change of either is a holder
  // alive (src/cache/lock.ts). NULL in a sighting noted before this column: nothing known.
  `ALTER TABLE lock_sightings ADD COLUMN heartbeat_at TEXT;`,
  // Issue 24: a model cascade's calibrated threshold, by the scope it holds for (rules, models, prompt version).
  `CREATE TABLE calibrations (
     scope TEXT PRIMARY KEY,
     record TEXT NOT NULL,
     calibrated_at TEXT NOT NULL
   ) WITHOUT ROWID;`,
  // Issue 21 (invariant 9): questions in flight, claimed by the run asking them, so that another
  // instance on the same cache waits for the answer instead of paying for it too.
  `CREATE TABLE claims (
     key TEXT PRIMARY KEY,
     holder TEXT NOT NULL,
     claimed_at TEXT NOT NULL
   ) WITHOUT ROWID;`,
  // Issue 25: the sizes of the last answers per endpoint, model and prompt (a JSON list of
  // completion tokens), so that a run reserves what answers use from its first request.
  `CREATE TABLE answer_sizes (
     provider TEXT NOT NULL,
     model TEXT NOT NULL,
     prompt TEXT NOT NULL,
     sizes TEXT NOT NULL,
     learned_at INTEGER NOT NULL,
     PRIMARY KEY (provider, model, prompt)
   ) WITHOUT ROWID;`,
];

export function migrate(db: Database): void {
  // Most opens find the file current: a read, no write lock taken.
  if (versionOf(db) === MIGRATIONS.length) return;
  // Check and upgrade in one BEGIN IMMEDIATE transaction: a second process opening a new
  // file at the same moment waits (busy_timeout) for the first to finish, then finds the
  // file current, instead of reading version 0 and creating the tables again.
  db.transaction(() => {
    const version = versionOf(db);
    for (let v = version; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v] ?? '');
    if (version < MIGRATIONS.length) db.pragma(`user_version = ${MIGRATIONS.length}`);
  }).immediate();
}

/** The file's schema version; a newer one than this program knows is refused, untouched. */
function versionOf(db: Database): number {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) throw new NewerSchemaError(version, MIGRATIONS.length);
  return version;
}

export class NewerSchemaError extends Error {
  constructor(
    readonly found: number,
    readonly known: number,
  ) {
    super(`the cache file was written by a newer status-validator (schema ${found}; this one knows up to ${known})`);
  }
}
