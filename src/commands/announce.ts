import { openStore } from '../cache/index.js';
import type { Config, Secrets } from '../config/index.js';
import { exitCodeOfTarget, worstExit } from './exit.js';
import { randomUUID } from 'node:crypto';
import { LockedError, redact, type StatusValidatorError } from '../errors.js';
import { formatLog } from '../log/index.js';
import type { Metrics } from '../metrics/index.js';
import { NOTIFY_BUDGET_MS, Notifier, type NotifiedTarget } from '../notify/index.js';
import { sheetsClientFor, zeroCounters, type RunSummary, type TargetOutcome } from '../pipeline/index.js';
import { sameTab } from '../sheets/index.js';
import { systemClock, type CommandIO } from './context.js';

/**
 * What is told of a run once its writes are done (issue 22, invariant 12): its metrics,
 * its structured log event, its notifications. Nothing here can fail a run or change its
 * exit code: a notification that cannot be delivered becomes a warning in the run's
 * summary and in its record (the runs table), and is logged.
 */
export interface Announcer {
  notifier: Notifier;
  metrics?: Metrics | undefined;
  targets: readonly Config[];
  secrets: Secrets;
}

/** The announcer of a command's targets; a json destination without its secret is a config problem (exit 2) now, not a lost message later. */
export function announcerFor(file: string, targets: readonly Config[], secrets: Secrets, env: NodeJS.ProcessEnv, metrics?: Metrics): Announcer {
  // notify: is top-level: every target has the same.
  return { notifier: Notifier.fromConfig(file, targets[0]?.notify ?? [], env), metrics, targets, secrets };
}

/** Tasks a long-running command started in the background (deliveries): awaited before it ends, each bounded by the notification budget. */
export class Background {
  private readonly pending = new Set<Promise<unknown>>();

  track(task: Promise<unknown>): void {
    const settled = task.catch(() => undefined).finally(() => this.pending.delete(settled));
    this.pending.add(settled);
  }

  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}

export interface AnnounceOptions {
  trigger: string;
  dryRun?: boolean;
  /** The outcomes are of no recorded run (announceFailure): nothing to record again. */
  unrecorded?: boolean;
  /** Whether a target's ERROR rows were already told of (watch: the same rows as at its last run): `on: errors` does not hear of them again. */
  errorsAlreadyTold?: (outcome: TargetOutcome) => boolean;
}

/**
 * Metrics and the json log event of each target at once; then the notifications, within
 * NOTIFY_BUDGET_MS. Returns the warnings of the deliveries that failed, which are also
 * added to every summary of the run and recorded with it. `run` awaits this before it
 * prints its summary; watch, schedule and serve hand it to their Background.
 */
export async function announce(a: Announcer, outcomes: readonly TargetOutcome[], io: CommandIO, options: AnnounceOptions): Promise<string[]> {
  try {
    return await announceUnsafe(a, outcomes, io, options);
  } catch (error) {
    // A bug here must not become the run's: it is said, and the run ends as it would have.
    const warning = `could not send this run's notifications or metrics: ${redact(error instanceof Error ? error.message : String(error), a.secrets.all)}`;
    io.stderr.write(formatLog(io.logFormat ?? 'human', (io.clock ?? systemClock).now(), `warning: ${warning}`));
    return [warning];
  }
}

async function announceUnsafe(a: Announcer, outcomes: readonly TargetOutcome[], io: CommandIO, options: AnnounceOptions): Promise<string[]> {
  const clock = io.clock ?? systemClock;
  for (const outcome of outcomes) {
    a.metrics?.runEnded({ ...outcome, exitCode: exitCodeOfTarget(outcome), providerOf: (model) => providerOf(a.targets[0], model) });
    if (io.logFormat === 'json') io.stderr.write(formatLog('json', clock.now(), `${outcome.summary.target}: ${outcome.locked ? 'locked' : outcome.summary.status}`, 'run_end', runFields(outcome), severityOfRun(outcome)));
  }
  // A dry run writes nothing and records nothing: it tells nobody either.
  if (options.dryRun || a.notifier.size === 0 || outcomes.length === 0) return [];
  const started = Date.now();
  const targets: NotifiedTarget[] = await Promise.all(
    outcomes.map(async (o) => ({ summary: o.summary, exitCode: exitCodeOfTarget(o), locked: o.locked, gid: await gidOf(a, o), errorsAlreadyTold: options.errorsAlreadyTold?.(o) ?? false })),
  );
  const warnings = await a.notifier.send(
    { trigger: options.trigger, group: outcomes[0]?.summary.group, exitCode: worstExit(targets.map((t) => t.exitCode)), targets },
    // A second Ctrl-C (or the interrupt's deadline) cuts a hanging delivery short: the process is told to end now.
    { budgetMs: Math.max(1000, NOTIFY_BUDGET_MS - (Date.now() - started)), now: () => clock.now(), signal: io.abort },
  );
  if (warnings.length === 0) return [];
  for (const o of outcomes) {
    o.summary.warnings.push(...warnings);
    if (!o.locked && !o.summary.dryRun && !options.unrecorded) await rerecord(a, o);
  }
  return warnings;
}

/** The run's record gets the summary with the warning: its end is written again (the store's runs log). */
async function rerecord(a: Announcer, outcome: TargetOutcome): Promise<void> {
  const config = a.targets.find((t) => t.target.name === outcome.summary.target) ?? a.targets[0];
  if (!config) return;
  try {
    const store = await openStore(config.cache);
    try {
      await store.runs.end(outcome.summary.runId, outcome.summary.status, outcome.summary);
    } finally {
      await store.close();
    }
  } catch {
    // The warning is in the summary printed or logged; a cache that cannot take it changes nothing more.
  }
}

/**
 * The tab's gid, for row links: asked only of targets with newly INVALID rows, one read call, at most 3 s.
 * sheetsClientFor's clients of one service account share its read and write pacers (invariant 4): this call is paced with the run's.
 */
async function gidOf(a: Announcer, outcome: TargetOutcome): Promise<number | undefined> {
  if ((outcome.summary.newlyInvalid?.count ?? 0) === 0) return undefined;
  const config = a.targets.find((t) => t.target.name === outcome.summary.target);
  if (!config) return undefined;
  const timeout = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 3000).unref());
  const lookup = sheetsClientFor(config, a.secrets)
    .sheetsMetadata()
    .then((tabs) => tabs.find((t) => sameTab(t.title, config.sheets.sheet))?.sheetId)
    .catch(() => undefined);
  return Promise.race([lookup, timeout]);
}

function providerOf(config: Config | undefined, model: string): string {
  return config?.llm.providers.find((p) => p.model === model)?.name ?? '';
}

function severityOfRun(o: TargetOutcome): 'INFO' | 'WARNING' | 'ERROR' {
  if (o.locked || o.summary.status === 'completed_with_errors' || o.summary.status === 'interrupted') return 'WARNING';
  return o.summary.status === 'failed' ? 'ERROR' : 'INFO';
}

/** A run's figures for its log event: ids, counts, cost; never a row's content. */
function runFields(o: TargetOutcome): Record<string, string | number | boolean | null> {
  const s = o.summary;
  return {
    runId: s.runId,
    group: s.group ?? null,
    target: s.target,
    trigger: s.trigger,
    status: o.locked ? 'locked' : s.status,
    exitCode: exitCodeOfTarget(o),
    rowsRead: s.rows.read,
    rowsAsked: s.rows.asked,
    valid: s.verdicts.valid,
    invalid: s.verdicts.invalid,
    error: s.verdicts.error,
    newlyInvalid: s.newlyInvalid?.count ?? 0,
    rowsWritten: s.writes.rowsWritten,
    llmCalls: s.llm.calls,
    costUsd: s.llm.costUsd,
    wallMs: s.wallMs,
    fatal: s.fatal ? redact(s.fatal.message) : null,
  };
}

/**
 * A target that failed before any run of it could start (its lock held by another run,
 * a tab a watch cannot read, a key refused): told as a run that failed, so that `on:
 * failed` hears of it (exit 4 for a held lock, else 1). Nothing was done, so nothing is
 * recorded; the caller ends or goes on as it would have.
 */
export async function announceFailure(a: Announcer, config: Config, error: StatusValidatorError, io: CommandIO, trigger: string): Promise<string[]> {
  return announce(a, [failedOutcome(a, config, error, io, trigger)], io, { trigger, unrecorded: true });
}

/** A target that did not run, as the outcome of a run that failed (a held lock: `locked`, exit 4); told with others in one message. */
export function failedOutcome(a: Announcer, config: Config, error: StatusValidatorError, io: CommandIO, trigger: string): TargetOutcome {
  const at = (io.clock ?? systemClock).now().toISOString();
  const message = redact(error.message, a.secrets.all);
  const summary: RunSummary = {
    runId: randomUUID(),
    status: 'failed',
    trigger,
    target: config.target.name,
    dryRun: false,
    spreadsheetId: config.sheets.spreadsheet_id,
    sheet: config.sheets.sheet,
    startedAt: at,
    endedAt: at,
    ...zeroCounters(),
    warnings: [],
    fatal: error.hint === undefined ? { message } : { message, hint: redact(error.hint, a.secrets.all) },
  };
  return { summary, locked: error instanceof LockedError };
}
