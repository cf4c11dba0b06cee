import type pg from 'pg';
import { StatusValidatorError } from '../../errors.js';
import type { Target } from './target.js';

/** Text compared byte by byte, as SQLite does: ISO times and keys sort alike under any database collation. */
const C = 'text COLLATE "C"';

/**
 * The PostgreSQL schema, as the steps that build it: version N has run the first N. Append a
 * step to change the tables, never edit one that has shipped. Column names are SQLite's
 * (src/cache/schema.ts), so that a dump of one restores into the other; JSON stays text, since
 * a damaged text must still be readable (it shows as null), and jsonb would refuse to hold it.
 */
export const PG_MIGRATIONS: readonly string[] = [
  `CREATE TABLE verdicts (
     key ${C} PRIMARY KEY,
     verdict text NOT NULL CHECK (verdict IN ('VALID', 'INVALID')),
     issues text NOT NULL,
     suggestion text NOT NULL,
     model text NOT NULL,
     provider text NOT NULL,
     checked_at ${C} NOT NULL,
     confidence double precision NOT NULL DEFAULT 1,
     prompt_tokens bigint NOT NULL DEFAULT 0,
     completion_tokens bigint NOT NULL DEFAULT 0,
     cached_tokens bigint NOT NULL DEFAULT 0
   );
   CREATE TABLE overrides (
     key ${C} PRIMARY KEY,
     verdict text NOT NULL CHECK (verdict IN ('VALID', 'INVALID')),
     note text NOT NULL,
     recorded_at ${C} NOT NULL
   );
   -- seq: the order rows were added (SQLite's rowid), the last tie-break of a listing.
   CREATE TABLE runs (
     id ${C} PRIMARY KEY,
     seq bigint GENERATED ALWAYS AS IDENTITY,
     started_at ${C} NOT NULL,
     ended_at ${C},
     trigger text NOT NULL,
     spreadsheet_id text NOT NULL,
     sheet text NOT NULL,
     status text NOT NULL,
     summary text,
     triggered_by text,
     request text,
     target text,
     run_group ${C}
   );
   CREATE INDEX runs_by_group ON runs (run_group);
   CREATE INDEX runs_by_start ON runs (started_at);
   CREATE TABLE batch_jobs (
     id ${C} PRIMARY KEY,
     provider text NOT NULL,
     model text NOT NULL,
     spreadsheet_id text NOT NULL,
     sheet text NOT NULL,
     target text,
     input_file_id text NOT NULL,
     status text NOT NULL,
     requests bigint NOT NULL,
     created_at ${C} NOT NULL,
     updated_at ${C} NOT NULL,
     output_file_id text,
     error_file_id text,
     applied_at ${C},
     applied_summary text
   );
   CREATE TABLE batch_lines (
     batch_id ${C} NOT NULL,
     custom_id ${C} NOT NULL,
     label ${C} NOT NULL,
     key ${C} NOT NULL,
     inputs text NOT NULL,
     PRIMARY KEY (batch_id, custom_id, label)
   );
   CREATE INDEX batch_lines_by_key ON batch_lines (key);
   CREATE TABLE embeddings (
     key ${C} PRIMARY KEY,
     status text NOT NULL,
     model text NOT NULL,
     scope text NOT NULL DEFAULT '',
     vector bytea NOT NULL
   );
   CREATE INDEX embeddings_by_partition ON embeddings (model, scope, status);
   CREATE TABLE provider_limits (
     provider ${C} NOT NULL,
     model ${C} NOT NULL,
     key_hash ${C} NOT NULL,
     rpm bigint,
     tpm bigint,
     learned_at bigint NOT NULL,
     contradicted integer NOT NULL DEFAULT 0,
     PRIMARY KEY (provider, model, key_hash)
   );
   CREATE TABLE provider_fields (
     provider ${C} NOT NULL,
     model ${C} NOT NULL,
     field ${C} NOT NULL,
     learned_at bigint NOT NULL,
     message text NOT NULL,
     PRIMARY KEY (provider, model, field)
   );
   -- The run locks (./locks.ts): the holder's session holds an advisory lock as well; this row
   -- names it, and its heartbeat is stamped by the server's clock, one clock for every host.
   CREATE TABLE locks (
     name ${C} PRIMARY KEY,
     run_id text NOT NULL,
     pid integer NOT NULL,
     host text NOT NULL,
     started_at timestamptz NOT NULL,
     heartbeat_at timestamptz NOT NULL,
     beat bigint NOT NULL DEFAULT 0,
     backend_pid integer NOT NULL
   );`,
  // A stored ISO time as a timestamp, or NULL when unreadable (a hand edit, a restored dump):
  // putUnlessNewer compares times in one statement, and a text that does not parse must not fail it.
  `CREATE OR REPLACE FUNCTION sv_time(t text) RETURNS timestamptz LANGUAGE plpgsql STABLE AS $fn$
   BEGIN
     RETURN t::timestamptz;
   EXCEPTION WHEN others THEN
     RETURN NULL;
   END
   $fn$;`,
  // Issue 24: a model cascade's calibrated threshold, by the scope it holds for (as SQLite's).
  `CREATE TABLE calibrations (
     scope ${C} PRIMARY KEY,
     record text NOT NULL,
     calibrated_at ${C} NOT NULL
   );`,
  // Issue 21 (invariant 9): questions in flight, claimed by the run asking them (as SQLite's).
  `CREATE TABLE claims (
     key ${C} PRIMARY KEY,
     holder ${C} NOT NULL,
     claimed_at ${C} NOT NULL
   );`,
  // Issue 25: the sizes of the last answers per endpoint, model and prompt (as SQLite's).
  `CREATE TABLE answer_sizes (
     provider ${C} NOT NULL,
     model ${C} NOT NULL,
     prompt ${C} NOT NULL,
     sizes text NOT NULL,
     learned_at bigint NOT NULL,
     PRIMARY KEY (provider, model, prompt)
   );`,
];

/** The key of the transaction-level advisory lock migrations run under ("sv-schema"). */
const MIGRATION_LOCK = 0x73762d736368656dn;

/**
 * Brings the schema to the version this program knows, under a transaction-level advisory
 * lock: instances starting together wait for the first, then find the schema current. A
 * database written by a newer version is refused, untouched (the transaction rolls back).
 */
export async function migratePostgres(client: pg.ClientBase, target: Target): Promise<void> {
  await refuseNonUtf8(client, target);
  const current = await versionOf(client);
  if (current === PG_MIGRATIONS.length) return;
  if (current !== undefined && current > PG_MIGRATIONS.length) throw newerSchema(target, current);
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [BigInt.asIntN(64, MIGRATION_LOCK).toString()]);
    await client.query('CREATE TABLE IF NOT EXISTS status_validator_schema (version integer NOT NULL)');
    const version = (await versionOf(client)) ?? 0;
    if (version > PG_MIGRATIONS.length) throw newerSchema(target, version);
    for (let v = version; v < PG_MIGRATIONS.length; v++) await client.query(PG_MIGRATIONS[v] ?? '');
    await client.query('DELETE FROM status_validator_schema');
    await client.query('INSERT INTO status_validator_schema (version) VALUES ($1)', [Math.max(version, PG_MIGRATIONS.length)]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

/**
 * A database's encoding is fixed when it is created, and a text it cannot hold is refused
 * (22P05, https://www.postgresql.org/docs/15/multibyte.html): in a LATIN1 database the first
 * verdict holding an emoji would fail at put, after the model was paid for it. SQLite keeps any
 * text; so does a UTF8 database. Anything else is refused before a table is created.
 */
async function refuseNonUtf8(client: pg.ClientBase, target: Target): Promise<void> {
  const row = await client.query<{ encoding: string }>('SELECT pg_encoding_to_char(encoding) AS encoding FROM pg_database WHERE datname = current_database()');
  const encoding = row.rows[0]?.encoding;
  if (encoding === undefined || encoding === 'UTF8') return;
  throw new StatusValidatorError(`The PostgreSQL database "${target.database}" at ${target.location} uses the encoding ${encoding}, which cannot hold every text a verdict may carry (an emoji, a CJK character, a curly quote).`, {
    hint: `Create a database with ENCODING 'UTF8' (CREATE DATABASE "${target.database}_utf8" ENCODING 'UTF8' TEMPLATE template0;) and point cache.url at it; nothing was written to this one.`,
  });
}

/** The schema's version, or undefined when the database holds no cache yet. */
async function versionOf(client: pg.ClientBase): Promise<number | undefined> {
  const exists = await client.query<{ t: string | null }>(`SELECT to_regclass('status_validator_schema')::text AS t`);
  if (!exists.rows[0]?.t) return undefined;
  const row = await client.query<{ version: number }>('SELECT max(version) AS version FROM status_validator_schema');
  return row.rows[0]?.version ?? 0;
}

function newerSchema(target: Target, found: number): StatusValidatorError {
  return new StatusValidatorError(`The PostgreSQL cache at ${target.location} was written by a newer status-validator (schema ${found}; this one knows up to ${PG_MIGRATIONS.length}).`, {
    hint: 'Upgrade status-validator to the version the other instances run (or newer); this one leaves the database untouched.',
  });
}
