import type { FieldStore, LimitStore } from '../contract.js';
import { FIELDS_MAX_AGE_MS, type FieldsOf } from '../fields.js';
import { LIMITS_MAX_AGE_MS, keyHash, type KnownLimits, type LimitsOf } from '../limits.js';
import type { Db } from './db.js';

/**
 * The per-minute limits learned from providers' headers, by the API key's sha256 (never the
 * key), as src/cache/limits.ts keeps them: stale after LIMITS_MAX_AGE_MS, or once a 429
 * contradicted them. learned_at is this process's clock in ms, as SQLite's.
 */
export class PostgresLimitMemory implements LimitStore {
  constructor(
    private readonly db: Db,
    private readonly now: () => number,
  ) {}

  async recall(of: LimitsOf): Promise<KnownLimits | undefined> {
    const [row] = await this.db.rows<{ rpm: number | null; tpm: number | null; learned_at: number; contradicted: number }>(
      'SELECT rpm, tpm, learned_at, contradicted FROM provider_limits WHERE provider = $1 AND model = $2 AND key_hash = $3',
      [of.provider, of.model, keyHash(of.apiKey)],
    );
    if (!row || row.contradicted !== 0 || this.now() - row.learned_at > LIMITS_MAX_AGE_MS) return undefined;
    if (row.rpm === null && row.tpm === null) return undefined;
    return { rpm: row.rpm ?? undefined, tpm: row.tpm ?? undefined };
  }

  async learn(of: LimitsOf, limits: KnownLimits | undefined): Promise<void> {
    const hash = keyHash(of.apiKey);
    if (limits === undefined) {
      await this.db.query('UPDATE provider_limits SET contradicted = 1 WHERE provider = $1 AND model = $2 AND key_hash = $3', [of.provider, of.model, hash]);
      return;
    }
    await this.db.query(
      `INSERT INTO provider_limits (provider, model, key_hash, rpm, tpm, learned_at, contradicted) VALUES ($1, $2, $3, $4, $5, $6, 0)
       ON CONFLICT (provider, model, key_hash) DO UPDATE SET rpm = excluded.rpm, tpm = excluded.tpm, learned_at = excluded.learned_at, contradicted = 0`,
      [of.provider, of.model, hash, whole(limits.rpm), whole(limits.tpm), Math.floor(this.now())],
    );
  }
}

/** A limit worth keeping: a whole number ≥ 1 (as src/cache/limits.ts). */
function whole(n: number | undefined): number | null {
  if (n === undefined || !Number.isFinite(n)) return null;
  const w = Math.floor(n);
  return w >= 1 && Number.isSafeInteger(w) ? w : null;
}

/** Request fields an endpoint refused by name, forgotten after FIELDS_MAX_AGE_MS (as src/cache/fields.ts). */
export class PostgresFieldMemory implements FieldStore {
  constructor(
    private readonly db: Db,
    private readonly now: () => number,
  ) {}

  async recall(of: FieldsOf): Promise<string[]> {
    const rows = await this.db.rows<{ field: string }>('SELECT field FROM provider_fields WHERE provider = $1 AND model = $2 AND learned_at >= $3 ORDER BY field', [
      of.provider,
      of.model,
      Math.floor(this.now() - FIELDS_MAX_AGE_MS),
    ]);
    return rows.map((r) => r.field);
  }

  async learn(of: FieldsOf, field: string, message: string): Promise<void> {
    await this.db.query(
      `INSERT INTO provider_fields (provider, model, field, learned_at, message) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (provider, model, field) DO UPDATE SET learned_at = excluded.learned_at, message = excluded.message`,
      [of.provider, of.model, field, Math.floor(this.now()), message.slice(0, 500)],
    );
  }
}
