import type { CachedVerdict } from '../cache/index.js';
import { cutText } from '../llm/index.js';
import type { Entry, OutputField } from '../sheets/index.js';

/** Google Sheets refuses cells longer than this. */
const CELL_LIMIT = 50_000;

const fit = (text: string): string => (text.length <= CELL_LIMIT ? text : `${cutText(text, CELL_LIMIT - 20)}… [truncated]`);

export type OutputCells = Record<OutputField, string>;

/** The output cells of a verdict, as they go into the sheet (plain text, written RAW). */
export function verdictCells(verdict: Pick<CachedVerdict, 'verdict' | 'issues' | 'suggestion' | 'model' | 'checkedAt' | 'confidence'>, minConfidence?: number): OutputCells {
  // Cells hold plain text; the cache keeps the structured verdict, so the review
  // threshold can change without asking the model again.
  const unsure = minConfidence !== undefined && verdict.confidence < minConfidence;
  const issues = unsure ? [`The model leans ${verdict.verdict} but is unsure (confidence ${verdict.confidence.toFixed(2)}); a person should decide.`, ...verdict.issues] : verdict.issues;
  return {
    verdict: unsure ? 'NEEDS REVIEW' : verdict.verdict,
    issues: fit(issues.join('\n')),
    suggestion: fit(verdict.suggestion),
    checked_at: verdict.checkedAt,
    model: verdict.model,
  };
}

export function errorCells(reason: string, model: string, checkedAt: string): OutputCells {
  return { verdict: 'ERROR', issues: fit(reason), suggestion: '', checked_at: checkedAt, model };
}

/** Whether the sheet already shows this verdict (the time it was checked may differ). */
export function showsVerdict(entry: Entry, cells: OutputCells): boolean {
  const shown = entry.outputs;
  return (
    shown.verdict === cells.verdict &&
    shown.issues === cells.issues &&
    shown.suggestion === cells.suggestion &&
    shown.model === cells.model &&
    shown.checked_at.trim() !== ''
  );
}
