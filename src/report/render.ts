import { cascadeCostRatio, type CascadeReport, type RunSummary } from '../pipeline/index.js';
import { describeAnswers, describeSheet, n, plural } from './words.js';

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;

/** An age for people: 45 s, 12 min, 3.5 h, 2.0 d. */
export function age(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  if (s < 36 * 3600) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86_400).toFixed(1)} d`;
}

export function formatUsd(value: number | null): string {
  if (value === null) return 'unknown (no price for this model)';
  return value < 0.01 ? `$${value.toFixed(5)}` : `$${value.toFixed(4)}`;
}

/** The closing summary of a run, for a person at a terminal (a fatal error is told apart, on stderr). */
export function renderSummary(s: RunSummary): string {
  const lines: string[] = [];
  const title = {
    completed: 'Run finished',
    completed_with_errors: 'Run finished with errors',
    interrupted: 'Run interrupted',
    failed: 'Run failed',
  }[s.status];
  lines.push(`${title}${s.dryRun ? ' (dry run: nothing written to the sheet or the cache)' : ''} — "${s.sheet}" in ${s.spreadsheetId}`);
  const rows: Array<[string, string]> = [
    ['rows read', n(s.rows.read)],
    ['already up to date', n(s.rows.upToDate)],
    ['cache hits written', n(s.rows.fromCache)],
    ['rows sent to the model', `${n(s.rows.asked)}${s.rows.deduplicated ? ` (${n(s.rows.deduplicated)} shared an identical row's answer)` : ''}`],
    ["this run's answers", describeAnswers(s)],
    ['the sheet now shows', s.sheetShows ? describeSheet(s.sheetShows) : 'unknown (the tab was not read)'],
    ['LLM calls', `${n(s.llm.calls)} (${plural(s.llm.retries, 'retry', 'retries')})${s.llm.connectionFailures ? `; ${plural(s.llm.connectionFailures, 'connection failure')} (not calls)` : ''}`],
    ['tokens', `${n(s.llm.promptTokens)} prompt (${n(s.llm.cachedTokens)} cached${s.llm.cacheHitRate !== null ? `, ${Math.round(s.llm.cacheHitRate * 100)}%` : ''}), ${n(s.llm.completionTokens)} completion`],
    ['cost', `${formatUsd(s.llm.costUsd)}${s.llm.savedUsd !== null && s.llm.naiveCostUsd ? ` (the naive way, one full call per row: ${formatUsd(s.llm.naiveCostUsd)}; saved ${formatUsd(s.llm.savedUsd)}, ${Math.round((s.llm.savedUsd / s.llm.naiveCostUsd) * 100)}%)` : ''}`],
    ['sheet', `${plural(s.writes.rowsWritten, 'row')} written in ${plural(s.writes.calls, 'call')}${s.writes.rowsMoved ? `, ${n(s.writes.rowsMoved)} found moved and written where they are now` : ''}`],
    ['wall time', seconds(s.wallMs)],
  ];
  const flex = s.llm.flex;
  if (flex) rows.splice(rows.findIndex(([label]) => label === 'cost') + 1, 0, ['flex', `${plural(flex.requests, 'request')} sent at flex; ${plural(flex.capacityRefusals, 'capacity refusal')} (not billed); ${plural(flex.fellBack, 'question')} sent again at auto`]);
  const again = s.llm.askedAgainAtFullCap ?? 0;
  if (again > 0) rows.splice(rows.findIndex(([label]) => label === 'cost') + 1, 0, ['asked again', `${plural(again, 'answer')} longer than the learned answer size, asked again at max_completion_tokens`]);
  if (s.llm.cascade) rows.splice(rows.length - 2, 0, ['cascade', describeCascade(s.llm.cascade)]);
  if (s.rows.deferred) rows.splice(4, 0, ['left for the next run', n(s.rows.deferred)]);
  for (const w of [...s.waitingForBatch].reverse()) {
    rows.splice(4, 0, [`waiting for ${w.batchId}`, `${plural(w.rows, 'row')}, not asked: the job submitted ${age(Date.parse(s.endedAt) - Date.parse(w.submittedAt))} ago answers ${w.rows === 1 ? 'it' : 'them'} (batch status, then batch results)`]);
  }
  if (s.rows.incomplete) rows.splice(1, 0, ['skipped (no status or comment)', n(s.rows.incomplete)]);
  const width = Math.max(...rows.map(([label]) => label.length));
  for (const [label, value] of rows) lines.push(`  ${label.padEnd(width)}  ${value}`);
  if (s.writes.headersAdded.length) lines.push(`  added columns: ${s.writes.headersAdded.map((h) => `"${h}"`).join(', ')}`);
  for (const stop of s.writes.stopped) {
    lines.push(`  writes to "${stop.tab}" stopped: ${stop.reason}. ${n(s.writes.rowsNotWritten)} verdicts were not written; they are kept in the cache. Restore the header "${stop.header}" (or change ${stop.key} in the config) and run again: no model call is needed for them.`);
  }
  for (const skip of s.writes.skipped.slice(0, 10)) lines.push(`  not written: row ${skip.row}${skip.id ? ` (${skip.id})` : ''}: ${skip.reason}`);
  if (s.writes.skipped.length > 10) lines.push(`  … and ${s.writes.skipped.length - 10} more rows not written`);
  for (const error of s.errors.slice(0, 10)) lines.push(`  ERROR row ${error.row}${error.id ? ` (${error.id})` : ''}: ${error.reason}`);
  if (s.errors.length > 10) lines.push(`  … and ${s.errors.length - 10} more rows in ERROR (they are retried on the next run)`);
  else if (s.errors.length > 0) lines.push('  Rows in ERROR are retried on the next run.');
  for (const warning of s.warnings) lines.push(`  warning: ${warning}`);
  return lines.join('\n');
}

/** What to say on stderr when a run stopped on a fatal error. */
export function renderFatal(s: RunSummary): string | undefined {
  if (!s.fatal) return undefined;
  const lines = [`Error: ${s.fatal.message}`];
  if (s.fatal.hint) lines.push(`Fix: ${s.fatal.hint}`);
  if (s.llm.calls > 0 && !s.dryRun) lines.push('Answers the cache confirmed before the failure are kept and will not be paid for again.');
  return lines.join('\n');
}

/** One line per run, for the logs of watch, schedule and serve. */
export function renderOneLine(s: RunSummary): string {
  const head = `run ${s.runId.slice(0, 8)} (${s.trigger}) ${s.status}`;
  const body = `${plural(s.rows.read, 'row')}, ${n(s.rows.asked)} asked (answers: ${describeAnswers(s)}), ${plural(s.llm.calls, 'LLM call')}, ${plural(s.writes.rowsWritten, 'row')} written, ${formatUsd(s.llm.costUsd)}, ${seconds(s.wallMs)}`;
  const sheet = s.sheetShows ? `; the sheet shows ${describeSheet(s.sheetShows)}` : '';
  const waiting = s.waitingForBatch.map((w) => `, ${n(w.rows)} waiting for ${w.batchId} (${age(Date.parse(s.endedAt) - Date.parse(w.submittedAt))})`).join('');
  return `${head}: ${body}${waiting}${sheet}${s.fatal ? ` — ${s.fatal.message}` : ''}`;
}

/** llm.cascade in a line: what the small model kept, what went on, the calibration and the bound, the cost against large-only; then why. */
function describeCascade(c: CascadeReport): string {
  const ratio = cascadeCostRatio(c);
  const cost = c.costUsd === null || c.largeOnlyCostUsd === null ? '' : `; ${formatUsd(c.costUsd)} against ${formatUsd(c.largeOnlyCostUsd)} asking ${c.large} alone${ratio ? ` (${ratio})` : ''}`;
  const calibration = `${plural(c.calibrationRows, 'calibration row')}${c.calibratedNow ? ` (${n(c.calibratedNow)} asked of both models this run)` : ''}${c.reviewerLabels ? `, ${n(c.reviewerLabels)} labelled by reviewers` : ''}`;
  return `${n(c.kept)} kept by ${c.small}, ${n(c.escalated)} escalated to ${c.large}; ${calibration}; agreement ≥ ${c.bound.toFixed(3)} at ${c.confidence} confidence (target ${c.targetAgreement})${cost}. ${c.note}`;
}
