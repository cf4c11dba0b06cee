import type { RunState } from './admission.js';

/**
 * What a caller may see of a run: the machine token (the operator) everything; a person
 * only the targets their request names (the tab they are on, `scope`), so that no one
 * learns another spreadsheet's id, tab, rows or errors from a run id that came their way
 * (a 409 names the run holding their tab, which may be a cron run of every target).
 */
export type Scope = { all: true } | { all: false; targets: ReadonlySet<string> };

export const everything: Scope = { all: true };

/** A run as GET /runs/:id (and the 202) shows it to a caller of that scope. */
export function runView(state: RunState, scope: Scope): Record<string, unknown> {
  const common = { id: state.id, status: state.status, startedAt: state.startedAt };
  if (scope.all) {
    const [only, ...more] = state.summaries;
    // One target: its summary, as before targets existed; several: one summary each.
    const skipped = (state.skipped ?? []).map((b) => ({ target: b.target, heldBy: b.busy.id || null, ...(b.busy.host === undefined ? {} : { host: b.busy.host }) }));
    return { ...common, targets: state.targets, ...(skipped.length > 0 ? { skipped } : {}), progress: state.progress ?? null, summary: more.length === 0 ? (only ?? null) : null, summaries: state.summaries, error: state.error ?? null };
  }
  const targets = state.targets.filter((name) => scope.targets.has(name));
  const whole = targets.length > 0 && targets.length === state.targets.length;
  const summaries = state.summaries.filter((s) => scope.targets.has(s.target));
  const failed = summaries.filter((s) => s.status === 'failed');
  const others = state.summaries.filter((s) => !scope.targets.has(s.target) && s.status === 'failed').length;
  let error: string | null = null;
  if (failed.length > 0) error = failed.map((s) => s.fatal?.message ?? 'failed').join('; ');
  else if (whole && state.error !== undefined) error = state.error;
  else if (others > 0 && targets.length === 0) error = 'this run failed on tabs other than yours; ask the bot\'s operator';
  else if (state.status === 'failed' && targets.length > 0 && summaries.length < targets.length) error = "this run failed before your tab's part ended; ask the bot's operator";
  return {
    ...common,
    status: statusOf(state, targets, summaries),
    targets,
    // A run of other tabs too: its progress counts their rows, so it is not shown.
    progress: whole ? (state.progress ?? null) : null,
    summary: summaries.length === 1 ? (summaries[0] ?? null) : null,
    summaries,
    error,
  };
}

/**
 * The status a person is shown: their own part's. A run of other tabs too may fail on
 * one of those (another spreadsheet unshared from the bot) while theirs finished; the
 * whole run's status would tell them that another tab failed. While the run goes on,
 * and for a run none of whose targets is theirs, the run's own status.
 */
function statusOf(state: RunState, mine: readonly string[], summaries: readonly RunState['summaries'][number][]): RunState['status'] {
  if (mine.length === 0 || mine.length === state.targets.length) return state.status;
  if (state.status !== 'finished' && state.status !== 'failed') return state.status;
  // Ended without a summary of theirs (the run failed as a whole): failed, as its error says.
  if (summaries.length < mine.length) return 'failed';
  return summaries.some((s) => s.status === 'failed') ? 'failed' : 'finished';
}

/** GET /health: liveness for anyone; the runs' ids only for the operator (a run id opens its view). */
export function healthView(active: readonly RunState[], operator: boolean): Record<string, unknown> {
  if (!operator) return { ok: true, running: active.length };
  return { ok: true, running: active[0]?.id ?? null, status: active[0]?.status ?? null, runs: active.map((s) => ({ id: s.id, status: s.status })) };
}
