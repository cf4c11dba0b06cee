import type { CachedVerdict } from './store.js';

/** A verdicts table row as both stores keep it (snake_case columns, issues as JSON text). */
export interface VerdictRow {
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
 * A stored row as a verdict, with its issues already read: each store decides for itself what a
 * damaged issues text means (SQLite asks the row again, Postgres reads it as no issues).
 */
export function verdictFromRow(row: VerdictRow, issues: string[]): CachedVerdict {
  return {
    key: row.key,
    verdict: row.verdict,
    issues,
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

/** A verdict as the row both stores write. */
export function rowFromVerdict(verdict: CachedVerdict): VerdictRow {
  return {
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
  };
}
