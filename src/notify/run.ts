import type { NotifyEvent } from '../config/index.js';
import type { RunSummary } from '../pipeline/index.js';

/** One target of the run a notification tells of: its summary, its exit code, its tab's gid when known (for row links). */
export interface NotifiedTarget {
  summary: RunSummary;
  exitCode: number;
  /** Another run held its lock: it did not run (exit 4). */
  locked?: boolean;
  /** The data tab's sheet id, which a row link needs (#gid=…); undefined when it could not be learnt. */
  gid?: number | undefined;
  /** Its ERROR rows are those already told of (a watch re-running the same ERROR rows each poll): not an `errors` event again. */
  errorsAlreadyTold?: boolean;
}

/** A whole run (a portfolio's targets together): one message per destination tells of it. */
export interface NotifiedRun {
  trigger: string;
  group?: string | undefined;
  exitCode: number;
  targets: NotifiedTarget[];
}

const FAILED_EXITS: readonly number[] = [1, 2, 4];

/** What a target's run is, in the words of `notify: on:`. */
export function eventsOf(target: NotifiedTarget): Set<NotifyEvent> {
  const events = new Set<NotifyEvent>(['finished']);
  if (FAILED_EXITS.includes(target.exitCode)) events.add('failed');
  if (target.exitCode === 3 && !target.errorsAlreadyTold) events.add('errors');
  if ((target.summary.newlyInvalid?.count ?? 0) > 0) events.add('invalid');
  return events;
}

/** The events of the whole run: those of any of its targets. */
export function eventsOfRun(run: NotifiedRun): Set<NotifyEvent> {
  const all = new Set<NotifyEvent>();
  for (const target of run.targets) for (const event of eventsOf(target)) all.add(event);
  return all;
}

/** Whether a destination listening for `on` hears of this run (an event of any target). */
export function isDue(on: readonly NotifyEvent[], run: NotifiedRun): boolean {
  const events = eventsOfRun(run);
  return on.some((event) => events.has(event));
}

/** The link to a row of a tab: `#gid` selects the tab, `range` the row (no gid known: the spreadsheet). */
export function rowLink(spreadsheetId: string, gid: number | undefined, row: number): string {
  const base = `https://docs.google.com/spreadsheets/d/${encodeURIComponent(spreadsheetId)}/edit`;
  return gid === undefined ? base : `${base}#gid=${gid}&range=A${row}`;
}
