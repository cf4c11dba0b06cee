import { createHash } from 'node:crypto';
import type { Database, Statement } from 'better-sqlite3';

/** Per-minute limits as a provider's x-ratelimit-* headers state them. */
export interface KnownLimits {
  rpm?: number | undefined;
  tpm?: number | undefined;
}

/** Which limits: one provider (its base URL), one model, one API key. */
export interface LimitsOf {
  provider: string;
  model: string;
  apiKey: string;
}

/** A day: limits change with the account's tier, so older knowledge is probed again. */
export const LIMITS_MAX_AGE_MS = 24 * 60 * 60 * 1000;

interface LimitsRow {
  rpm: number | null;
  tpm: number | null;
  learned_at: number;
  contradicted: number;
}

/**
 * The limits learned from a provider's headers, kept so the next run starts at the
 * right pace instead of probing. Keyed by the API key's sha256: the key itself never
 * reaches the file. An entry older than {@link LIMITS_MAX_AGE_MS}, or one a 429
 * contradicted, is not recalled (the next run probes again).
 */
export class LimitMemory {
  private readonly select: Statement<[string, string, string], LimitsRow>;
  private readonly upsert: Statement<[string, string, string, number | null, number | null, number]>;
  private readonly mark: Statement<[string, string, string]>;

  constructor(
    db: Database,
    private readonly now: () => number = Date.now,
    private readonly maxAgeMs = LIMITS_MAX_AGE_MS,
  ) {
    this.select = db.prepare('SELECT rpm, tpm, learned_at, contradicted FROM provider_limits WHERE provider = ? AND model = ? AND key_hash = ?');
    this.upsert = db.prepare(
      `INSERT INTO provider_limits (provider, model, key_hash, rpm, tpm, learned_at, contradicted) VALUES (?, ?, ?, ?, ?, ?, 0)
       ON CONFLICT (provider, model, key_hash) DO UPDATE SET rpm = excluded.rpm, tpm = excluded.tpm, learned_at = excluded.learned_at, contradicted = 0`,
    );
    this.mark = db.prepare('UPDATE provider_limits SET contradicted = 1 WHERE provider = ? AND model = ? AND key_hash = ?');
  }

  /** The limits to start at, or undefined when there are none fresh and uncontradicted. */
  recall(of: LimitsOf): KnownLimits | undefined {
    const row = this.select.get(of.provider, of.model, keyHash(of.apiKey));
    if (!row || row.contradicted !== 0 || this.now() - row.learned_at > this.maxAgeMs) return undefined;
    if (row.rpm === null && row.tpm === null) return undefined;
    return { rpm: row.rpm ?? undefined, tpm: row.tpm ?? undefined };
  }

  /** What the headers stated (undefined: a 429 contradicted what was known). */
  learn(of: LimitsOf, limits: KnownLimits | undefined): void {
    const hash = keyHash(of.apiKey);
    if (limits === undefined) this.mark.run(of.provider, of.model, hash);
    else this.upsert.run(of.provider, of.model, hash, whole(limits.rpm), whole(limits.tpm), this.now());
  }
}

/** sha256 of the key, hex: tells keys apart, cannot be turned back into one. */
export function keyHash(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex');
}

/** A limit worth keeping: a whole number ≥ 1 (a header of 0.5 or 1e300 is not one). */
function whole(n: number | undefined): number | null {
  if (n === undefined || !Number.isFinite(n)) return null;
  const w = Math.floor(n);
  return w >= 1 && Number.isSafeInteger(w) ? w : null;
}
