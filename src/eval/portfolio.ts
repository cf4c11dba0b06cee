import { renderAgreement, type Agreement } from './index.js';
import { plural } from '../plural.js';

/** One target's agreement, or why it has none (no review.override_column, its tab unreadable). */
export type TargetAgreement =
  | ({ target: string; spreadsheetId: string; sheet: string } & Agreement)
  | { target: string; spreadsheetId: string; sheet: string; skipped: string }
  | { target: string; spreadsheetId: string; sheet: string; error: { message: string; hint?: string } };

type Measured = Extract<TargetAgreement, { matrix: unknown }>;
const measured = (t: TargetAgreement): t is Measured => 'matrix' in t;

/** The overall agreement: every measured target's counts and confusion matrix summed (rows, not targets, weigh). */
export function overallAgreement(targets: readonly TargetAgreement[]): Agreement {
  const total: Agreement = { reviewed: 0, compared: 0, agreed: 0, rate: null, matrix: { VALID: { VALID: 0, INVALID: 0 }, INVALID: { VALID: 0, INVALID: 0 } }, disagreements: [], withoutModel: [] };
  for (const t of targets.filter(measured)) {
    total.reviewed += t.reviewed;
    total.compared += t.compared;
    total.agreed += t.agreed;
    for (const reviewer of ['VALID', 'INVALID'] as const) for (const model of ['VALID', 'INVALID'] as const) total.matrix[reviewer][model] += t.matrix[reviewer][model];
  }
  total.rate = total.compared === 0 ? null : total.agreed / total.compared;
  return total;
}

/** Each target's agreement under its name, then the overall one (rows listed per target only). */
export function renderPortfolioAgreement(targets: readonly TargetAgreement[]): string {
  const out: string[] = [];
  for (const t of targets) {
    out.push(`== ${t.target} ("${t.sheet}" in ${t.spreadsheetId})`);
    if (measured(t)) out.push(renderAgreement(t).trimEnd());
    else if ('skipped' in t) out.push(`not evaluated: ${t.skipped}`);
    else out.push(`NOT EVALUATED: ${t.error.message}${t.error.hint ? ` Fix: ${t.error.hint}` : ''}`);
    out.push('');
  }
  const count = targets.filter(measured).length;
  out.push(`== overall (${count} of ${plural(targets.length, 'target')})`);
  const total = overallAgreement(targets);
  out.push(total.reviewed === 0 ? 'No reviewer verdicts in any evaluated target yet.' : renderAgreement(total).trimEnd());
  return `${out.join('\n')}\n`;
}
