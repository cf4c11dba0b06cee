import type { RunSummary, SheetCounts } from '../pipeline/index.js';
import { formatUsd } from './render.js';
import { n, plural } from './words.js';

/** A target's run as the portfolio report shows it. */
export interface TargetLine {
  summary: RunSummary;
  locked: boolean;
  exitCode: number;
}

/** The sums over all targets: what the whole run did and cost. */
export interface PortfolioTotal {
  targets: number;
  rowsRead: number;
  rowsAsked: number;
  valid: number;
  invalid: number;
  error: number;
  llmCalls: number;
  rowsWritten: number;
  /** null when a model's price is unknown. */
  costUsd: number | null;
  wallMs: number;
  /** What the targets' tabs show now, summed over the tabs that were read. */
  sheetShows: SheetCounts;
}

const SHEET_KEYS = ['rows', 'valid', 'invalid', 'needsReview', 'error', 'reviewerValid', 'reviewerInvalid', 'unchecked', 'incomplete', 'other'] as const;

function sumSheets(lines: readonly TargetLine[]): SheetCounts {
  const total = Object.fromEntries(SHEET_KEYS.map((k) => [k, 0])) as unknown as SheetCounts;
  for (const { summary } of lines) for (const k of SHEET_KEYS) total[k] += summary.sheetShows?.[k] ?? 0;
  return total;
}

export function portfolioTotal(lines: readonly TargetLine[]): PortfolioTotal {
  const sum = (of: (s: RunSummary) => number) => lines.reduce((n, l) => n + of(l.summary), 0);
  const costs = lines.map((l) => l.summary.llm.costUsd);
  const started = Math.min(...lines.map((l) => Date.parse(l.summary.startedAt)));
  const ended = Math.max(...lines.map((l) => Date.parse(l.summary.endedAt)));
  return {
    targets: lines.length,
    rowsRead: sum((s) => s.rows.read),
    rowsAsked: sum((s) => s.rows.asked),
    valid: sum((s) => s.verdicts.valid),
    invalid: sum((s) => s.verdicts.invalid),
    error: sum((s) => s.verdicts.error),
    llmCalls: sum((s) => s.llm.calls),
    rowsWritten: sum((s) => s.writes.rowsWritten),
    costUsd: costs.includes(null) ? null : costs.reduce<number>((a, b) => a + (b ?? 0), 0),
    wallMs: lines.length === 0 ? 0 : Math.max(0, ended - started),
    sheetShows: sumSheets(lines),
  };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;

function statusOf(line: TargetLine): string {
  if (line.locked) return 'locked';
  return { completed: 'ok', completed_with_errors: 'with errors', interrupted: 'interrupted', failed: 'FAILED' }[line.summary.status];
}

/**
 * The closing report of a run over several targets: a line per target and a total, then
 * what needs attention (failures, rows in ERROR, stopped writes, warnings), each under
 * the name of its target.
 */
export function renderPortfolio(lines: readonly TargetLine[], exitCode: number): string {
  const total = portfolioTotal(lines);
  const header = ['target', 'tab', 'status', 'rows', 'asked', 'VALID', 'INVALID', 'ERROR', 'calls', 'written', 'cost', 'time'];
  const rows = lines.map((l) => {
    const s = l.summary;
    return [s.target, `"${s.sheet}" in ${s.spreadsheetId}`, statusOf(l), n(s.rows.read), n(s.rows.asked), n(s.verdicts.valid), n(s.verdicts.invalid), n(s.verdicts.error), n(s.llm.calls), n(s.writes.rowsWritten), formatUsd(s.llm.costUsd), seconds(s.wallMs)];
  });
  const worst = exitCode === 0 ? 'all targets done' : `exit code ${exitCode}`;
  rows.push([`total (${total.targets})`, '', worst, n(total.rowsRead), n(total.rowsAsked), n(total.valid), n(total.invalid), n(total.error), n(total.llmCalls), n(total.rowsWritten), formatUsd(total.costUsd), seconds(total.wallMs)]);
  const dry = lines.some((l) => l.summary.dryRun) ? ' (dry run: nothing written to the sheets or the cache)' : '';
  const out = [`Run over ${plural(lines.length, 'target')}${dry}; VALID, INVALID and ERROR are this run's answers (the rows it asked)`, ...table(header, rows, 3)];
  out.push("What the tabs show now (every row's verdict cell, after this run):", ...table(...sheetTable(lines, total), 1));
  for (const line of lines) out.push(...attention(line));
  return out.join('\n');
}

/** Columns padded to their widest cell; the cells from `firstNumeric` on are right-aligned. */
function table(header: readonly string[], rows: readonly string[][], firstNumeric: number): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const format = (cells: readonly string[]) => `  ${cells.map((c, i) => (i >= firstNumeric ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ')}`.trimEnd();
  return [format(header), ...rows.map(format)];
}

/** A line per target of what its tab shows (a tab that was not read: dashes), and the sum. */
function sheetTable(lines: readonly TargetLine[], total: PortfolioTotal): [string[], string[][]] {
  const header = ['target', 'rows', 'VALID', 'INVALID', 'NEEDS REVIEW', 'ERROR', 'reviewer VALID', 'reviewer INVALID', 'not checked', 'other'];
  const cells = (c: SheetCounts) => [c.rows, c.valid, c.invalid, c.needsReview, c.error, c.reviewerValid, c.reviewerInvalid, c.unchecked + c.incomplete, c.other].map(n);
  const rows = lines.map((l) => [l.summary.target, ...(l.summary.sheetShows ? cells(l.summary.sheetShows) : header.slice(1).map(() => '-'))]);
  rows.push([`total (${total.targets})`, ...cells(total.sheetShows)]);
  return [header, rows];
}

/** What to say on stderr of the targets that failed or did not run, each named (as a single run's renderFatal). */
export function renderPortfolioFatal(lines: readonly TargetLine[]): string | undefined {
  const out: string[] = [];
  for (const { summary: s, locked } of lines) {
    if (!s.fatal) continue;
    out.push(`Error: [${s.target}] ${locked ? 'not run: ' : ''}${s.fatal.message}`);
    if (s.fatal.hint) out.push(`Fix: ${s.fatal.hint}`);
    if (s.llm.calls > 0 && !s.dryRun) out.push(`[${s.target}]: the answers received before the failure are saved in the cache and will not be paid for again.`);
  }
  return out.length > 0 ? out.join('\n') : undefined;
}

/** What a person must know about one target, each line naming it. */
function attention(line: TargetLine): string[] {
  const s = line.summary;
  const at = `[${s.target}]`;
  const out: string[] = [];
  for (const stop of s.writes.stopped) out.push(`${at} writes to "${stop.tab}" stopped: ${stop.reason}. ${plural(s.writes.rowsNotWritten, 'verdict')} ${s.writes.rowsNotWritten === 1 ? 'is' : 'are'} kept in the cache; restore the header "${stop.header}" (or change ${stop.key}) and run again.`);
  for (const error of s.errors.slice(0, 5)) out.push(`${at} ERROR row ${error.row}${error.id ? ` (${error.id})` : ''}: ${error.reason}`);
  if (s.errors.length > 5) out.push(`${at} … and ${s.errors.length - 5} more rows in ERROR (retried on the next run)`);
  for (const skip of s.writes.skipped.slice(0, 5)) out.push(`${at} not written: row ${skip.row}${skip.id ? ` (${skip.id})` : ''}: ${skip.reason}`);
  for (const w of s.waitingForBatch) out.push(`${at} ${plural(w.rows, 'row')} waiting for ${w.batchId}`);
  for (const warning of s.warnings) out.push(`${at} warning: ${warning}`);
  return out;
}
