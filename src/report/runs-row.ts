import type { RunSummary } from '../pipeline/index.js';

export const RUNS_HEADER = ['Started (UTC)', 'Finished (UTC)', 'Trigger', 'Status', 'Rows', 'Asked', 'Valid', 'Invalid', 'Errors', 'LLM calls', 'Tokens', 'Cost (USD)', 'Seconds', 'Run id'];

/** One row of the Runs tab: what the people in the sheet want to see of a run. */
export function runsRow(s: RunSummary): string[] {
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
  ];
}
