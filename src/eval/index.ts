import type { CachedVerdict } from '../cache/index.js';
import { plural, rowList } from '../plural.js';
import { parseOverride } from '../pipeline/review.js';
import type { Entry } from '../sheets/index.js';

type Verdict = 'VALID' | 'INVALID';

export interface Disagreement {
  row: number;
  id: string;
  reviewer: Verdict;
  note: string;
  model: Verdict;
  modelIssues: string[];
}

export interface Agreement {
  /** Rows carrying a reviewer's verdict. */
  reviewed: number;
  /** Of those, rows the model also answered (for the same inputs). */
  compared: number;
  agreed: number;
  /** agreed / compared, or null when nothing could be compared. */
  rate: number | null;
  /** matrix[reviewer][model]: how many rows. */
  matrix: Record<Verdict, Record<Verdict, number>>;
  disagreements: Disagreement[];
  /** Reviewed rows the model never answered (reviewed before any run asked). */
  withoutModel: number[];
  /** With llm.cascade: the agreement of each model's own answers, and of the cascade's. */
  byModel?: ModelAgreement[];
}

export interface ModelAgreement {
  /** A model, or the cascade (cascade:small>large). */
  model: string;
  compared: number;
  agreed: number;
  rate: number | null;
}

/** Compares reviewers' verdicts with the model's, row by row. */
export function measureAgreement(entries: readonly Entry[], keyOf: (entry: Entry) => string, modelVerdict: (key: string) => CachedVerdict | undefined): Agreement {
  const result: Agreement = {
    reviewed: 0,
    compared: 0,
    agreed: 0,
    rate: null,
    matrix: { VALID: { VALID: 0, INVALID: 0 }, INVALID: { VALID: 0, INVALID: 0 } },
    disagreements: [],
    withoutModel: [],
  };
  for (const entry of entries) {
    const override = parseOverride(entry.review.override);
    if (!override) continue;
    result.reviewed++;
    const model = modelVerdict(keyOf(entry));
    if (!model) {
      result.withoutModel.push(entry.row);
      continue;
    }
    result.compared++;
    result.matrix[override.verdict][model.verdict]++;
    if (override.verdict === model.verdict) result.agreed++;
    else result.disagreements.push({ row: entry.row, id: entry.id, reviewer: override.verdict, note: override.note, model: model.verdict, modelIssues: model.issues });
  }
  result.rate = result.compared === 0 ? null : result.agreed / result.compared;
  return result;
}

export function renderAgreement(a: Agreement): string {
  if (a.reviewed === 0) return 'No reviewer verdicts in the sheet yet: fill the review.override_column cells (VALID or INVALID, then a note).\n';
  const pct = a.rate === null ? 'n/a' : `${(a.rate * 100).toFixed(1)}%`;
  const lines = [
    `Reviewed rows: ${a.reviewed}; compared with the model: ${a.compared}; agreement: ${pct} (${a.agreed}/${a.compared})`,
    '',
    '                     model VALID   model INVALID',
    `  reviewer VALID     ${String(a.matrix.VALID.VALID).padStart(11)}   ${String(a.matrix.VALID.INVALID).padStart(13)}`,
    `  reviewer INVALID   ${String(a.matrix.INVALID.VALID).padStart(11)}   ${String(a.matrix.INVALID.INVALID).padStart(13)}`,
  ];
  if (a.disagreements.length > 0) {
    lines.push('', 'Where they differ:');
    for (const d of a.disagreements) {
      lines.push(`  row ${d.row}${d.id ? ` (${d.id})` : ''}: reviewer ${d.reviewer}${d.note ? ` — ${d.note}` : ''}; model ${d.model}${d.modelIssues.length ? ` — ${d.modelIssues.join('; ')}` : ''}`);
    }
  }
  if (a.byModel) {
    lines.push('', 'Per model (llm.cascade; each over the reviewed rows it answered):');
    for (const m of a.byModel) lines.push(`  ${m.model.padEnd(Math.max(...a.byModel.map((x) => x.model.length)))}  ${m.rate === null ? 'n/a' : `${(m.rate * 100).toFixed(1)}%`} (${m.agreed}/${m.compared})`);
  }
  if (a.withoutModel.length > 0) {
    lines.push('', `${plural(a.withoutModel.length, 'reviewed row')} ${a.withoutModel.length === 1 ? 'was' : 'were'} never answered by the model (${rowList(a.withoutModel)}), so ${a.withoutModel.length === 1 ? 'it is' : 'they are'} not compared.`);
  }
  return `${lines.join('\n')}\n`;
}

export { overallAgreement, renderPortfolioAgreement, type TargetAgreement } from './portfolio.js';
