import type { RunSummary, SheetCounts } from '../pipeline/index.js';
import { grouped, plural } from '../plural.js';

/** A count as en-US writes it ("1,200"). */
export const n = grouped;

export { plural };

/**
 * What the sheet's verdict column shows now, over all its rows: VALID and INVALID always
 * (a sheet with none says so), the other kinds when there are any.
 */
export function describeSheet(c: SheetCounts): string {
  const parts = [`${n(c.valid)} VALID`, `${n(c.invalid)} INVALID`];
  if (c.needsReview) parts.push(`${n(c.needsReview)} NEEDS REVIEW`);
  if (c.error) parts.push(`${n(c.error)} ERROR`);
  const reviewer = c.reviewerValid + c.reviewerInvalid;
  if (reviewer) parts.push(`${n(reviewer)} by a reviewer (${n(c.reviewerValid)} VALID, ${n(c.reviewerInvalid)} INVALID)`);
  if (c.unchecked) parts.push(`${n(c.unchecked)} not checked yet`);
  if (c.incomplete) parts.push(`${n(c.incomplete)} without status or comment`);
  if (c.other) parts.push(`${n(c.other)} with something else in the verdict cell`);
  return `${parts.join(', ')} (${plural(c.rows, 'row')})`;
}

/** This run's answers: the rows it asked about, or why there were none. */
export function describeAnswers(s: Pick<RunSummary, 'rows' | 'verdicts'>): string {
  const v = s.verdicts;
  if (v.valid + v.invalid + v.error === 0) return s.rows.asked === 0 ? 'none: no row needed the model' : 'none';
  const unsure = v.needsReview ? ` (${n(v.needsReview)} NEEDS REVIEW: the model was unsure)` : '';
  return `${n(v.valid)} VALID, ${n(v.invalid)} INVALID, ${n(v.error)} ERROR${unsure}`;
}
