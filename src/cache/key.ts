import { createHash } from 'node:crypto';

export interface KeyParts {
  inputs: { status: string; comment: string; completion_date: string };
  rulesText: string;
  allowedStatuses: readonly string[];
  promptVersion: string;
  model: string;
  schemaVersion: string;
}

/**
 * The cache key of one row: everything that could change the model's answer. The row
 * id is deliberately not part of it (nor of the prompt), so identical rows share one
 * answer. Today's date is not part of it either: a verdict stays valid until its
 * inputs, the rules or the model change.
 */
export function cacheKey(parts: KeyParts): string {
  return createHash('sha256')
    .update(
      JSON.stringify([
        'v1',
        parts.inputs.status,
        parts.inputs.comment,
        parts.inputs.completion_date,
        parts.rulesText,
        parts.allowedStatuses,
        parts.promptVersion,
        parts.model,
        parts.schemaVersion,
      ]),
    )
    .digest('hex');
}
