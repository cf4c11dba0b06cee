import { randomUUID } from 'node:crypto';
import type { RunRequest, Store } from '../cache/index.js';
import type { Config, Secrets } from '../config/index.js';
import { redact } from '../errors.js';
import type { ProviderGate } from '../llm/index.js';
import { runPortfolio, type RunSummary, type TargetOutcome } from '../pipeline/index.js';
import { RUNS_HEADER, RUNS_IDENTITY, runsRow } from '../report/index.js';
import { appendToOwnTab, type CellValues, type SheetsClient } from '../sheets/index.js';
import type { RunState } from './admission.js';
import type { Metrics } from '../metrics/index.js';
import type { TargetLock } from './store-locks.js';

/** One target of a triggered run: its config, its client, and its tab as the plan read it (if it could). */
export interface LaunchTarget {
  config: Config;
  sheets: SheetsClient;
  values: CellValues | undefined;
  /** What its plan found to ask, and at what estimated cost (null: a price unknown); undefined when it could not be planned. */
  rows?: number | undefined;
  estimatedUsd?: number | null | undefined;
}

export interface Launch {
  targets: LaunchTarget[];
  secrets: Secrets;
  /** The server's provider gates, shared by every run it starts. */
  gates: ReadonlyMap<string, ProviderGate>;
  /** The server's store, shared by every run it starts. */
  store: Store;
  /** The targets' locks, taken at admission (store-locks.ts), by target name: each run holds its own and frees it. */
  locks?: ReadonlyMap<string, TargetLock>;
  request: RunRequest;
  stop: AbortSignal | undefined;
  abort: AbortSignal | undefined;
  log: (line: string) => void;
  /** The server's metrics: each target's run feeds them its events as they happen (429s by provider, Sheets calls by kind). */
  metrics?: Metrics | undefined;
  /** Told of the run's end once every target's writes are done (metrics, notifications: issue 22), with the targets it left out for another run holding them. */
  onEnd?: (outcomes: readonly TargetOutcome[], skipped: readonly SkippedTarget[]) => void;
}

/** A target a cron run of every target left out: another run held it (told to `on: failed` as exit 4, as `run` tells a held lock). */
export interface SkippedTarget {
  target: string;
  /** Who holds it, in words (never a secret: a run id and a host). */
  heldBy: string;
}

/**
 * One triggered run over its targets, at once, with its trace: who asked and what is
 * recorded in the runs table as soon as each target's run has recorded its start (its
 * first progress report), and the Runs tab rows carry them, so serve appends those rows
 * itself instead of the runs. A run of one target has the request's id as its run id.
 */
export async function launchRun(state: RunState, launch: Launch): Promise<RunSummary[]> {
  const { secrets, request } = launch;
  // A lock taken at admission was taken for its run's id.
  const runIds = launch.targets.map((t, i) => launch.locks?.get(t.config.target.name)?.runId ?? (i === 0 && launch.targets.length === 1 ? state.id : randomUUID()));
  const traced: Array<Promise<void> | false> = launch.targets.map(() => false);
  const configs = launch.targets.map(({ config }) => {
    const { runs_sheet: _own, ...report } = config.report;
    return { ...config, report };
  });
  const run = await runPortfolio(configs, secrets, {
    trigger: 'serve',
    force: request.force,
    ...(request.rows ? { rows: request.rows } : {}),
    gates: launch.gates,
    store: launch.store,
    warnings: [],
    each: (_config, i) => {
      const target = launch.targets[i] as LaunchTarget;
      const held = launch.locks?.get(target.config.target.name);
      return {
        runId: runIds[i] as string,
        ...(held ? { heldLock: held.lock } : {}),
        sheets: target.sheets,
        ...(target.values ? { preread: target.values } : {}),
        ...(launch.metrics ? { onEvent: launch.metrics.listen(target.config.target.name) } : {}),
        onProgress: () => {
          // The run recorded its start before its first progress report; the request is added to it (never rejects).
          if (!traced[i]) traced[i] = trace(runIds[i] as string, request, launch);
        },
      };
    },
    onProgress: (p) => (state.progress = { ...p }),
    ...(launch.stop ? { stop: launch.stop } : {}),
    ...(launch.abort ? { abort: launch.abort } : {}),
  });
  await Promise.all(
    run.targets.map(async ({ summary, locked }, i) => {
      const target = launch.targets[i] as LaunchTarget;
      const at = launch.targets.length > 1 ? ` [${target.config.target.name}]` : '';
      if (locked) return launch.log(`run ${state.id.slice(0, 8)}${at} not run: ${summary.fatal?.message ?? 'another run holds the lock'}`);
      await (traced[i] || trace(summary.runId, request, launch));
      const runsSheet = target.config.report.runs_sheet;
      if (runsSheet !== undefined) {
        try {
          await appendToOwnTab(target.sheets, runsSheet, RUNS_HEADER, [runsRow(summary, request)], { identity: RUNS_IDENTITY });
        } catch (error) {
          launch.log(`warning: could not add run ${summary.runId.slice(0, 8)} to the "${runsSheet}" tab: ${redact(error instanceof Error ? error.message : String(error), secrets.all)}`);
        }
      }
      launch.log(`run ${state.id.slice(0, 8)}${at} by ${request.by} ${summary.status}`);
    }),
  );
  const skipped = (state.skipped ?? []).map((b) => ({ target: b.target, heldBy: `${b.busy.id ? `run ${b.busy.id.slice(0, 8)}` : 'another run'}${b.busy.host === undefined ? '' : ` on ${b.busy.host}`}` }));
  launch.onEnd?.(run.targets, skipped);
  return run.targets.map((t) => t.summary);
}

/** Records who asked; a failure is logged, never the run's failure (the promise never rejects). */
function trace(id: string, request: RunRequest, launch: Launch): Promise<void> {
  return launch.store.runs.request(id, request).catch((error: unknown) => {
    launch.log(`warning: could not record who asked for run ${id.slice(0, 8)}: ${redact(error instanceof Error ? error.message : String(error), launch.secrets.all)}`);
  });
}
