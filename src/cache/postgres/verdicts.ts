import type { KeyLookup } from '../contract.js';
import type { PendingBatch } from '../batch-jobs.js';
import type { CachedVerdict, ReviewerVerdict } from '../store.js';
import { verdictFromRow, type VerdictRow } from '../verdict-row.js';
import type { Db, Queryable } from './db.js';

const UPSERT = `INSERT INTO verdicts (key, verdict, issues, suggestion, model, provider, checked_at, confidence, prompt_tokens, completion_tokens, cached_tokens)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
  ON CONFLICT (key) DO UPDATE SET verdict = excluded.verdict, issues = excluded.issues, suggestion = excluded.suggestion,
    model = excluded.model, provider = excluded.provider, checked_at = excluded.checked_at, confidence = excluded.confidence,
    prompt_tokens = excluded.prompt_tokens, completion_tokens = excluded.completion_tokens, cached_tokens = excluded.cached_tokens`;

function values(v: CachedVerdict): unknown[] {
  return [v.key, v.verdict, JSON.stringify(v.issues), v.suggestion, v.model, v.provider, v.checkedAt, v.confidence, v.promptTokens, v.completionTokens, v.cachedTokens];
}

/** Keys per statement of a lookup: `= ANY($1)` with an array of this many stays a small message. */
const CHUNK = 1_000;

/** The model's verdicts and the reviewers' overrides. */
export class Verdicts {
  constructor(private readonly db: Db) {}

  async get(key: string): Promise<CachedVerdict | undefined> {
    const [row] = await this.db.rows<VerdictRow>('SELECT * FROM verdicts WHERE key = $1', [key]);
    return row && fromRow(row);
  }

  /** Resolved once committed (invariant 2); an upsert, so a retry after a lost acknowledgement changes nothing. */
  async put(verdict: CachedVerdict): Promise<void> {
    await this.db.query(UPSERT, values(verdict));
  }

  /**
   * One statement: the upsert itself decides, under the row lock ON CONFLICT takes, so a put of
   * the same key by another instance committing meanwhile is seen (INSERT waits for it, then
   * takes the UPDATE path against the committed row) and never overwritten when it is at or
   * after `since`. A SELECT … FOR UPDATE first would lock nothing while no row is committed yet
   * (https://www.postgresql.org/docs/15/sql-select.html#SQL-FOR-UPDATE-SHARE). Times are stored
   * as text: compared as timestamps (sv_time, schema step 2), and as SQLite's store does, an
   * unreadable time (either one) is not newer.
   */
  async putUnlessNewer(verdict: CachedVerdict, since: string): Promise<boolean> {
    const sinceMs = Date.parse(since);
    const sinceAt = Number.isFinite(sinceMs) ? new Date(sinceMs).toISOString() : null;
    // In a transaction of its own so that a lost COMMIT acknowledgement is settled by asking the server (Db.tx), not by running it again.
    return this.db.tx(async (client) => {
      const result = await client.query(`${UPSERT} WHERE NOT coalesce(sv_time(verdicts.checked_at) >= $12::timestamptz, false)`, [...values(verdict), sinceAt]);
      return (result.rowCount ?? 0) > 0;
    });
  }

  async count(): Promise<number> {
    const [row] = await this.db.rows<{ n: number }>('SELECT count(*) AS n FROM verdicts');
    return row?.n ?? 0;
  }

  async averageTokens(): Promise<{ promptTokens: number; completionTokens: number } | undefined> {
    const [row] = await this.db.rows<{ n: number; p: number | null; c: number | null }>(
      'SELECT count(*) AS n, avg(prompt_tokens)::float8 AS p, avg(completion_tokens)::float8 AS c FROM verdicts WHERE prompt_tokens > 0',
    );
    return row && row.n > 0 && row.p !== null && row.c !== null ? { promptTokens: row.p, completionTokens: row.c } : undefined;
  }

  /** Verdicts, pending and answered batch questions of these keys, as one REPEATABLE READ snapshot. */
  async lookup(keys: readonly string[]): Promise<KeyLookup> {
    const unique = [...new Set(keys)];
    return this.db.tx(async (client) => {
      const verdicts = new Map<string, CachedVerdict>();
      const pending = new Map<string, PendingBatch>();
      const answeredBatches = new Map<string, string>();
      for (let i = 0; i < unique.length; i += CHUNK) {
        const chunk = unique.slice(i, i + CHUNK);
        for (const row of (await client.query<VerdictRow>('SELECT * FROM verdicts WHERE key = ANY($1::text[])', [chunk])).rows) verdicts.set(row.key, fromRow(row));
        // Oldest job first: a key in two open jobs is named by the newer one, as SQLite's Map building does.
        const open = await client.query<{ key: string; batchId: string; submittedAt: string }>(
          `SELECT l.key, j.id AS "batchId", j.created_at AS "submittedAt" FROM batch_lines l JOIN batch_jobs j ON j.id = l.batch_id
           WHERE l.key = ANY($1::text[]) AND j.applied_at IS NULL AND j.status NOT IN ('failed', 'cancelled', 'expired') ORDER BY j.created_at`,
          [chunk],
        );
        for (const r of open.rows) pending.set(r.key, { batchId: r.batchId, submittedAt: r.submittedAt });
        const answered = await client.query<{ key: string; submittedAt: string }>(
          `SELECT l.key, max(j.created_at) AS "submittedAt" FROM batch_lines l JOIN batch_jobs j ON j.id = l.batch_id
           WHERE l.key = ANY($1::text[]) AND j.applied_at IS NOT NULL GROUP BY l.key`,
          [chunk],
        );
        for (const r of answered.rows) answeredBatches.set(r.key, r.submittedAt);
      }
      return { verdicts, pending, answeredBatches };
    }, { isolation: 'REPEATABLE READ', readOnly: true });
  }

  async getOverride(key: string): Promise<ReviewerVerdict | undefined> {
    const [row] = await this.db.rows<ReviewerVerdict>('SELECT key, verdict, note, recorded_at AS "recordedAt" FROM overrides WHERE key = $1', [key]);
    return row;
  }

  async allOverrides(): Promise<Map<string, ReviewerVerdict>> {
    const rows = await this.db.rows<ReviewerVerdict>('SELECT key, verdict, note, recorded_at AS "recordedAt" FROM overrides');
    return new Map(rows.map((r) => [r.key, r]));
  }

  /** In one transaction; an unchanged verdict keeps the time it was first recorded. */
  async putOverrides(verdicts: readonly ReviewerVerdict[]): Promise<void> {
    if (verdicts.length === 0) return;
    await this.db.tx(async (client) => {
      for (const v of verdicts) await putOverride(client, v);
    });
  }
}

async function putOverride(client: Queryable, v: ReviewerVerdict): Promise<void> {
  await client.query(
    `INSERT INTO overrides (key, verdict, note, recorded_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (key) DO UPDATE SET verdict = excluded.verdict, note = excluded.note, recorded_at = excluded.recorded_at
     WHERE overrides.verdict <> excluded.verdict OR overrides.note <> excluded.note`,
    [v.key, v.verdict, v.note, v.recordedAt],
  );
}

function fromRow(row: VerdictRow): CachedVerdict {
  return verdictFromRow(row, parsedIssues(row.issues));
}

/** A damaged issues text (a hand edit, a restored dump) reads as no issues rather than failing the run's selection. */
function parsedIssues(text: string): string[] {
  try {
    const value = JSON.parse(text) as unknown;
    return Array.isArray(value) ? value.filter((i): i is string => typeof i === 'string') : [];
  } catch {
    return [];
  }
}
