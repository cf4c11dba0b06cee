import type { RowInputs } from '../sheets/index.js';
import type { Answer } from './answer.js';
import { isAllowedStatus } from './prompt.js';

export interface Verdict {
  verdict: 'VALID' | 'INVALID';
  issues: string[];
  suggestion: string;
  /** The model's own confidence in the verdict, 0..1 (1 when it did not say). */
  confidence: number;
}

/**
 * The verdict of a row from the model's answer and the rules the bot enforces itself:
 * a status outside the allowed list (when there is one) is INVALID whatever the model said.
 */
export function decideVerdict(answer: Answer, inputs: RowInputs, allowedStatuses: readonly string[]): Verdict {
  const issues = answer.issues.map((issue) => issue.trim()).filter((issue) => issue !== '');
  let valid = answer.is_valid;
  let confidence = answer.confidence ?? 1;
  // No list (a sheet without a status column, or rules.allowed_statuses unset): no such rule.
  if (allowedStatuses.length > 0 && !isAllowedStatus(inputs.status, allowedStatuses)) {
    // The bot's own rule: certain, whatever the model thought.
    valid = false;
    confidence = 1;
    const shown = inputs.status === '' ? 'The status is empty' : `The status "${inputs.status}" is not allowed`;
    issues.unshift(`${shown}; use one of: ${allowedStatuses.join(', ')}.`);
  }
  return { verdict: valid ? 'VALID' : 'INVALID', issues, suggestion: answer.rewrite_suggestion.trim(), confidence };
}
