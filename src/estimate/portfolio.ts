import type { ModeEstimate } from './index.js';
import { plural } from '../plural.js';

/** The cascade beside large-only and small-only, for `estimate` (one mode: synchronous requests). */
export interface CascadeEstimate {
  smallOnlyUsd: number | null;
  largeOnlyUsd: number | null;
  /** A point estimate once calibrated; before, the range from "the small model keeps every row" to "it keeps none". */
  cascadeUsd: number | null;
  cascadeRange: { low: number; high: number } | null;
  /** Rows a run would ask of both models to calibrate (up to label_budget, less what the store holds). */
  calibrationRows: number;
  /** Share of the other rows sent on to the large model, as the stored calibration says; null before one. */
  escalationShare: number | null;
  note: string;
}

/** What one target would send, or why it could not be estimated (its tab unreadable: a 403, a missing tab). */
export type TargetEstimate =
  | { target: string; spreadsheetId: string; sheet: string; rows: number; toAsk: number; questions: number; modes: ModeEstimate[]; cascade?: CascadeEstimate }
  | { target: string; spreadsheetId: string; sheet: string; error: { message: string; hint?: string } };

export interface EstimateTotal {
  targets: number;
  /** Targets that could not be estimated: the total leaves them out. */
  failed: number;
  rows: number;
  toAsk: number;
  questions: number;
  /** Summed mode by mode; a cost is null when any target's is (a model without a price). */
  modes: ModeEstimate[];
}

type Estimated = Extract<TargetEstimate, { modes: ModeEstimate[] }>;
const estimated = (t: TargetEstimate): t is Estimated => 'modes' in t;

/** The sums over the targets that could be estimated: every target's modes come in the same order. */
export function estimateTotal(targets: readonly TargetEstimate[]): EstimateTotal {
  const ok = targets.filter(estimated);
  const sum = (of: (t: Estimated) => number) => ok.reduce((n, t) => n + of(t), 0);
  const modes = (ok[0]?.modes ?? []).map((first, i): ModeEstimate => {
    const at = ok.map((t) => t.modes[i]);
    const add = (of: (m: ModeEstimate) => number) => at.reduce((n, m) => n + (m ? of(m) : 0), 0);
    const costs = at.map((m) => m?.costUsd ?? null);
    return {
      mode: first.mode,
      requests: add((m) => m.requests),
      promptTokens: add((m) => m.promptTokens),
      cachedTokens: add((m) => m.cachedTokens),
      completionTokens: add((m) => m.completionTokens),
      costUsd: costs.includes(null) ? null : costs.reduce<number>((a, b) => a + (b ?? 0), 0),
    };
  });
  return { targets: targets.length, failed: targets.length - ok.length, rows: sum((t) => t.rows), toAsk: sum((t) => t.toAsk), questions: sum((t) => t.questions), modes };
}

/**
 * The estimate of a portfolio: a line per target (rows, rows to ask, questions, or why it
 * could not be read) and a total, then each mode with a line per target and a total.
 */
export function renderPortfolioEstimate(targets: readonly TargetEstimate[], model: string, formatUsd: (v: number | null) => string): string[] {
  const total = estimateTotal(targets);
  const width = Math.max(12, ...targets.map((t) => t.target.length + 2));
  const name = (text: string) => `  ${text.padEnd(width)}`;
  const out = [`Estimate over ${plural(targets.length, 'target')} with ${model}${total.failed > 0 ? ` (${total.failed} could not be read: left out of the total)` : ''}.`, '', `  ${'target'.padEnd(width)}     rows   to ask  questions  tab`];
  for (const t of targets) {
    if (estimated(t)) out.push(`${name(t.target)} ${String(t.rows).padStart(8)} ${String(t.toAsk).padStart(8)} ${String(t.questions).padStart(10)}  "${t.sheet}" in ${t.spreadsheetId}`);
    else out.push(`${name(t.target)} NOT ESTIMATED: "${t.sheet}" in ${t.spreadsheetId}: ${t.error.message}${t.error.hint ? ` Fix: ${t.error.hint}` : ''}`);
  }
  out.push(`${name(`total (${total.targets - total.failed})`)} ${String(total.rows).padStart(8)} ${String(total.toAsk).padStart(8)} ${String(total.questions).padStart(10)}`);
  out.push('', `  ${'mode / target'.padEnd(width)}  requests   prompt tokens  (cached)   answer tokens   cost`);
  const line = (label: string, m: ModeEstimate) =>
    `${name(label)} ${String(m.requests).padStart(9)} ${String(m.promptTokens).padStart(15)} ${String(m.cachedTokens).padStart(10)} ${String(m.completionTokens).padStart(15)}   ${formatUsd(m.costUsd)}`;
  total.modes.forEach((mode, i) => {
    out.push(`  ${mode.mode}`);
    for (const t of targets) {
      const m = estimated(t) ? t.modes[i] : undefined;
      if (m) out.push(line(`  ${t.target}`, m));
    }
    out.push(line('  total', mode));
  });
  return out;
}
