import { createHash } from 'node:crypto';

export interface KeyParts {
  inputs: { status: string; comment: string; completion_date: string; extra?: readonly string[] };
  rulesText: string;
  allowedStatuses: readonly string[];
  promptVersion: string;
  model: string;
  schemaVersion: string;
  /**
   * The row's shape (its columns' headers, see PromptRules.shape) when it is not the
   * standard status + comment; '' or absent for the standard shape.
   */
  shape?: string;
}

/**
 * The cache key of one row: everything that could change the model's answer. The row
 * id is deliberately not part of it (nor of the prompt), so identical rows share one
 * answer. Today's date is not part of it either: a verdict stays valid until its
 * inputs, the rules or the model change.
 */
export function cacheKey(parts: KeyParts): string {
  const fields: unknown[] = [
    'v1',
    parts.inputs.status,
    parts.inputs.comment,
    parts.inputs.completion_date,
    parts.rulesText,
    parts.allowedStatuses,
    parts.promptVersion,
    parts.model,
    parts.schemaVersion,
  ];
  // Appended only for a row with extra inputs or another shape: every key of a config
  // without them is byte for byte what it was (existing users must not pay again).
  const shape = parts.shape ?? '';
  if (shape !== '' || parts.inputs.extra !== undefined) fields.push(shape, parts.inputs.extra ?? []);
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex');
}
