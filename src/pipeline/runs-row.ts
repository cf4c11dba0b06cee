import type { RunRequest } from '../cache/index.js';
import type { CascadeReport } from './cascade/index.js';
import type { RunSummary } from './summary.js';

/**
 * New columns go at the end. Cells are placed under their header's text wherever it is
 * (appendToOwnTab), so a Runs tab made by an older version, or whose columns people moved,
 * gets each value in its own column; a header it lacks is added after its last used column.
 */
/** The Runs tab's column that tells runs apart: a retried append looks for it first (appendToOwnTab). */
export const RUNS_IDENTITY = 'Run id';

export const RUNS_HEADER = ['Started (UTC)', 'Finished (UTC)', 'Trigger', 'Status', 'Rows', 'Asked', 'Valid', 'Invalid', 'Errors', 'LLM calls', 'Tokens', 'Cost (USD)', 'Seconds', 'Run id', 'Triggered by', 'Request', 'Target', 'Run group', 'Sheet VALID', 'Sheet INVALID', 'Sheet NEEDS REVIEW', 'Sheet ERROR', 'Sheet reviewer verdicts', 'Sheet not checked', 'Retries (429, 5xx)', 'Cascade kept (small)', 'Cascade escalated (large)', 'Cascade calibration rows', 'Cascade agreement bound', 'Cascade cost / large-only'];

/** One row of the Runs tab: what the people in the sheet want to see of a run, and who asked for it (serve). */
export function runsRow(s: RunSummary, request?: RunRequest): string[] {
  return [
    s.startedAt,
    s.endedAt,
    s.trigger,
    s.status,
    String(s.rows.read),
    String(s.rows.asked),
    String(s.verdicts.valid),
    String(s.verdicts.invalid),
    String(s.verdicts.error),
    String(s.llm.calls),
    String(s.llm.promptTokens + s.llm.completionTokens),
    s.llm.costUsd === null ? 'unknown' : s.llm.costUsd.toFixed(4),
    (s.wallMs / 1000).toFixed(1),
    s.runId,
    request?.by ?? '',
    request ? describeRequest(request) : '',
    s.target,
    s.group ?? '',
    // What the tab shows after the run (Valid/Invalid/Errors above are this run's answers).
    ...(s.sheetShows ? [s.sheetShows.valid, s.sheetShows.invalid, s.sheetShows.needsReview, s.sheetShows.error, s.sheetShows.reviewerValid + s.sheetShows.reviewerInvalid, s.sheetShows.unchecked + s.sheetShows.incomplete].map(String) : ['', '', '', '', '', '']),
    // The dashboard's "errors and 429s": every retried call, to the models and to Sheets.
    String(s.llm.retries + s.writes.sheetRetries),
    // llm.cascade (issue 24); empty for a run without one.
    ...cascadeCells(s.llm.cascade),
  ];
}

/** "rows P-0012, P-0013; force" — what the caller asked for, short enough for a cell. */
export function describeRequest(request: RunRequest): string {
  const rows = request.rows === undefined ? 'all rows' : `${request.rows.length === 1 ? 'row' : 'rows'} ${request.rows.slice(0, 20).join(', ')}${request.rows.length > 20 ? ` (+${request.rows.length - 20} more)` : ''}`;
  const estimate = request.estimatedUsd === null ? '' : `; estimated $${request.estimatedUsd.toFixed(4)}`;
  return `${rows}${request.force ? '; force' : ''}${estimate}`;
}

function cascadeCells(c: CascadeReport | undefined): string[] {
  if (!c) return ['', '', '', '', ''];
  const ratio = c.costUsd !== null && c.largeOnlyCostUsd !== null && c.largeOnlyCostUsd > 0 ? (c.costUsd / c.largeOnlyCostUsd).toFixed(3) : '';
  return [String(c.kept), String(c.escalated), String(c.calibrationRows), c.bound.toFixed(4), ratio];
}
