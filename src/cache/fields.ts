import type { Database, Statement } from 'better-sqlite3';

/** Which endpoint: the provider's base URL and the model (Azure: the deployment) asked. */
export interface FieldsOf {
  provider: string;
  model: string;
}

/** A week: a provider may start accepting a field (a deployment upgraded); then it is tried again. */
export const FIELDS_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * Request fields an endpoint refused by name (Gemini's `Unknown name "prompt_cache_key"`),
 * kept like the learned rate limits (./limits.ts) so that the next run leaves them out
 * from its first request instead of paying a 400 to learn it again.
 */
export class FieldMemory {
  private readonly select: Statement<[string, string, number], { field: string }>;
  private readonly upsert: Statement<[string, string, string, number, string]>;

  constructor(
    db: Database,
    private readonly now: () => number = Date.now,
    private readonly maxAgeMs = FIELDS_MAX_AGE_MS,
  ) {
    this.select = db.prepare('SELECT field FROM provider_fields WHERE provider = ? AND model = ? AND learned_at >= ?');
    this.upsert = db.prepare(
      `INSERT INTO provider_fields (provider, model, field, learned_at, message) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (provider, model, field) DO UPDATE SET learned_at = excluded.learned_at, message = excluded.message`,
    );
  }

  /** The fields to leave out of requests to this endpoint. */
  recall(of: FieldsOf): string[] {
    return this.select.all(of.provider, of.model, this.now() - this.maxAgeMs).map((row) => row.field);
  }

  /** The endpoint refused `field`, saying `message` (kept for whoever looks at the file). */
  learn(of: FieldsOf, field: string, message: string): void {
    this.upsert.run(of.provider, of.model, field, this.now(), message.slice(0, 500));
  }
}
