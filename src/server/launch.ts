import { CacheStore, recordRunRequest, type RunRequest } from '../cache/index.js';
import type { Config, Secrets } from '../config/index.js';
import { redact } from '../errors.js';
import { runValidation, type RunSummary } from '../pipeline/index.js';
import { RUNS_HEADER, runsRow } from '../report/index.js';
import { appendToOwnTab, type CellValues, type SheetsClient } from '../sheets/index.js';
import type { RunState } from './admission.js';

export interface Launch {
  config: Config;
  secrets: Secrets;
  sheets: SheetsClient;
  /** The tab as the plan read it. */
  values: CellValues;
  request: RunRequest;
  stop: AbortSignal | undefined;
  abort: AbortSignal | undefined;
  log: (line: string) => void;
}

/**
 * One triggered run with its trace: who asked and what is recorded in the runs table as
 * soon as the run has recorded its start (its first progress report), and the Runs tab
 * row carries them, so serve appends that row itself instead of the run.
 */
export async function launchRun(state: RunState, launch: Launch): Promise<RunSummary> {
  const { config, secrets, request } = launch;
  const { runs_sheet: runsSheet, ...report } = config.report;
  let traced = false;
  const summary = await runValidation({ ...config, report }, secrets, {
    runId: state.id,
    trigger: 'serve',
    force: request.force,
    ...(request.rows ? { rows: request.rows } : {}),
    sheets: launch.sheets,
    preread: launch.values,
    warnings: [],
    onProgress: (p) => {
      state.progress = { ...p };
      if (!traced) traced = trace(config, state.id, request, launch);
    },
    ...(launch.stop ? { stop: launch.stop } : {}),
    ...(launch.abort ? { abort: launch.abort } : {}),
  });
  if (!traced) trace(config, state.id, request, launch);
  if (runsSheet !== undefined) {
    try {
      await appendToOwnTab(launch.sheets, runsSheet, RUNS_HEADER, [runsRow(summary, request)]);
    } catch (error) {
      launch.log(`warning: could not add run ${state.id.slice(0, 8)} to the "${runsSheet}" tab: ${redact(error instanceof Error ? error.message : String(error), secrets.all)}`);
    }
  }
  launch.log(`run ${state.id.slice(0, 8)} by ${request.by} ${summary.status}`);
  return summary;
}

/** Records who asked; a failure is logged, never the run's failure. True once recorded. */
function trace(config: Config, id: string, request: RunRequest, launch: Launch): boolean {
  try {
    const store = CacheStore.open(config.cache.path);
    try {
      recordRunRequest(store, id, request);
    } finally {
      store.close();
    }
    return true;
  } catch (error) {
    launch.log(`warning: could not record who asked for run ${id.slice(0, 8)}: ${redact(error instanceof Error ? error.message : String(error), launch.secrets.all)}`);
    return true;
  }
}
