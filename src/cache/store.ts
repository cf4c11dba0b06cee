/** The records the Store keeps (src/cache/contract.ts): a model's verdict and a reviewer's. */

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
