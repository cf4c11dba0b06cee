import type { Config, Secrets } from '../config/index.js';
import { redact } from '../errors.js';
import { RUNS_HEADER, RUNS_IDENTITY, runsRow } from './runs-row.js';
import type { Store } from '../cache/index.js';
import { ResultsTab, SheetsClient, appendToOwnTab, mapHeaders, processPacers, readEntries, readTabChunks, type Entry, type Layout, type OpenedSheet } from '../sheets/index.js';
import { lookupIn, snapshotOf } from './plan.js';
import type { QuestionPlan, RunPlan } from './run-plan.js';
import { selectWork, type Selection } from './select.js';
import type { RunSummary } from './summary.js';
import type { RunEventSink } from './events.js';

/**
 * Results-tab mode: reads the results tab and shows each entry the results its line
 * already has there, so that up-to-date rows cost nothing as in the default mode. The
 * tab is created (and its headers added) only before the first verdict is written.
 */
export async function resultsTarget(plan: Pick<RunPlan, 'resultsTab'>, sheets: SheetsClient, opened: OpenedSheet, events: RunEventSink): Promise<ResultsTab | undefined> {
  const of = plan.resultsTab;
  if (of === undefined) return undefined;
  const tab = of.tab;
  const results = new ResultsTab(sheets, of);
  await results.open();
  const duplicates = results.show(opened.entries);
  if (duplicates.size > 0) {
    events.emit({ type: 'warning', text: `ids used by more than one row: ${[...duplicates].slice(0, 10).join(', ')}; each of those rows has a line of the "${tab}" tab by its row number, which a sort or an inserted row makes it lose (it is written again, on a new line): give each row its own id` });
  }
  return results;
}

/**
 * The Sheets client of a config: its spreadsheet, key, emulator root and quotas. Its
 * pacers are the process's for its service account and project, so that every command
 * and target using that account in this process (watch and serve together) stays
 * within the one quota Google counts.
 */
export function sheetsClientFor(config: Pick<Config, 'sheets'>, secrets: Pick<Secrets, 'serviceAccount'>, signal?: AbortSignal, onRetry?: () => void): SheetsClient {
  const account = secrets.serviceAccount;
  // Keys without a project_id share a pacer per account anyway; their project is unknown.
  const project = account.project_id ?? `(project of ${account.client_email})`;
  return new SheetsClient({
    pacers: processPacers.forAccount({
      account: account.client_email,
      project,
      apiRoot: config.sheets.api_root,
      readsPerMinute: config.sheets.read_quota_per_minute,
      writesPerMinute: config.sheets.write_quota_per_minute,
    }),
    spreadsheetId: config.sheets.spreadsheet_id,
    key: secrets.serviceAccount,
    apiRoot: config.sheets.api_root,
    readsPerMinute: config.sheets.read_quota_per_minute,
    writesPerMinute: config.sheets.write_quota_per_minute,
    ...(signal ? { signal } : {}),
    ...(onRetry ? { onRetry } : {}),
  });
}

/** One row per run in the Runs tab; a failure there is a warning, never the run's failure. */
export async function appendRunsRow(sheets: SheetsClient, tab: string, summary: RunSummary, secrets: Secrets): Promise<void> {
  try {
    // The run id tells a row appended already (its answer lost) from one to append.
    await appendToOwnTab(sheets, tab, RUNS_HEADER, [runsRow(summary)], { identity: RUNS_IDENTITY });
  } catch (error) {
    summary.warnings.push(`could not add this run to the "${tab}" tab: ${redact(error instanceof Error ? error.message : String(error), secrets.all)}`);
  }
}

/**
 * What a run would ask now (estimate, batch submit): the tab read once, its rows sorted
 * against the cache as a run sorts them (no --limit; a recheck age from --recheck-older-than, else the config).
 */
export async function surveyTab(plan: QuestionPlan, secrets: Pick<Secrets, 'serviceAccount'>, store: Store, options: { force: boolean; now: Date; signal?: AbortSignal | undefined; recheckOlderThanMs?: number | undefined }): Promise<{ rows: number; selection: Selection }> {
  // In chunks, as the run reads (issue 25): a tab past the 180 s processing deadline in one read is read in several.
  // The rows are kept (the selection spans them all, as one run's would), the raw values of each chunk are not.
  const client = sheetsClientFor(plan, secrets, options.signal);
  let layout: Layout | undefined;
  const entries: Entry[] = [];
  for await (const read of readTabChunks(client, plan.sheets.sheet, plan.sheets.header_row)) {
    layout ??= mapHeaders(read.values[plan.sheets.header_row - 1] ?? [], plan.layout);
    for (const entry of readEntries(read.values, layout, read.firstRow).entries) entries.push(entry);
  }
  const { keyOf, snapshot } = await snapshotOf(store, entries, plan.keyOf);
  const selection = selectWork(entries, keyOf, lookupIn(snapshot, plan.minConfidence), {
    force: options.force,
    limit: undefined,
    staleAfterMs: options.recheckOlderThanMs ?? plan.staleAfterMs,
    now: options.now.getTime(),
  });
  return { rows: entries.length, selection };
}
