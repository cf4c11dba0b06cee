import { pendingQuestions, setAsidePending } from '../batch/pending.js';
import { CacheStore } from '../cache/index.js';
import { LockedError, RemoteError, SheetsError, redact } from '../errors.js';
import { hasWork, keyerOf, layoutConfigOf, lookupIn, runValidation, selectWork, sheetsClientFor, staleAfterOf } from '../pipeline/index.js';
import { renderOneLine } from '../report/index.js';
import type { Config } from '../config/index.js';
import { mapHeaders, parseResults, quoteSheetName, readEntries, type CellValues, type ParsedResults, type SheetsClient } from '../sheets/index.js';
import { load, logLine, systemClock, type CommandIO } from './context.js';

export interface WatchFlags {
  config: string;
  /** Milliseconds between polls. */
  every: number;
  /** Stop after this many polls (for trying it out, and for tests). */
  polls?: number;
}

/**
 * `watch`: makes the sheet itself the trigger. Each poll reads the tab once and runs
 * only when a row changed, a box was ticked or a verdict is missing; a quiet poll
 * costs one read call and nothing else. Ends on SIGINT/SIGTERM (exit 0).
 */
export async function watchCommand(flags: WatchFlags, io: CommandIO): Promise<number> {
  const { config, secrets, warnings } = load(flags.config, io);
  for (const warning of warnings) logLine(io, `warning: ${warning}`);
  const clock = io.clock ?? systemClock;
  // Shared with the runs it starts, whose last writes are never aborted.
  const sheets = sheetsClientFor(config, secrets);
  const store = CacheStore.open(config.cache.path);
  const layoutConfig = layoutConfigOf(config);
  const keyOf = keyerOf(config);
  const staleAfterMs = staleAfterOf(config, undefined);
  logLine(io, `watching "${config.sheets.sheet}" in ${config.sheets.spreadsheet_id} every ${flags.every / 1000} s (Ctrl-C to stop)`);
  try {
    for (let poll = 1; !io.stop?.aborted && (flags.polls === undefined || poll <= flags.polls); poll++) {
      try {
        const { values, results } = await readPoll(sheets, config);
        const layout = mapHeaders(values[config.sheets.header_row - 1] ?? [], layoutConfig);
        const { entries } = readEntries(values, layout);
        if (results) for (const entry of entries) entry.outputs = results.byId.get(entry.id) ?? entry.outputs;
        const missingTab = config.output.sheet !== undefined && results === undefined;
        const selected = selectWork(entries, keyOf, lookupIn(store, config.review.min_confidence), { force: false, limit: undefined, staleAfterMs, now: clock.now().getTime() });
        // Rows a pending batch job will answer are no reason to run (the run would not ask them).
        const selection = { ...selected, jobs: setAsidePending(selected.jobs, pendingQuestions(store)).ask };
        if (missingTab || hasWork(layout.missingHeaders.length + (results?.missing.length ?? 0), selection)) {
          const summary = await runValidation(config, secrets, {
            trigger: 'watch',
            sheets,
            preread: values,
            warnings: [],
            now: () => clock.now(),
            ...(clock.every ? { every: clock.every } : {}),
            ...(io.stop ? { stop: io.stop } : {}),
            ...(io.abort ? { abort: io.abort } : {}),
          });
          logLine(io, redact(renderOneLine(summary), secrets.all));
          // A failed run (bad key, no access) will fail again: stop loudly, let a supervisor restart.
          if (summary.status === 'failed') return 1;
        }
      } catch (error) {
        // A busy lock or a passing outage skips one poll; anything else ends the watch.
        if (!(error instanceof LockedError) && !(error instanceof RemoteError && (error.status === undefined || error.status === 429 || error.status >= 500))) throw error;
        logLine(io, `poll ${poll} skipped: ${redact((error).message, secrets.all)}`);
      }
      if (flags.polls !== undefined && poll >= flags.polls) break;
      await clock.sleep(flags.every, io.stop).catch(() => undefined);
    }
  } finally {
    store.close();
  }
  logLine(io, 'watch stopped');
  return 0;
}

/**
 * One read call per poll: the data tab, and in results-tab mode the results tab in the
 * same batchGet. A results tab that does not exist yet means there is work to do.
 */
async function readPoll(sheets: SheetsClient, config: Config): Promise<{ values: CellValues; results: ParsedResults | undefined }> {
  const tab = config.output.sheet;
  if (tab === undefined) return { values: await sheets.read(quoteSheetName(config.sheets.sheet)), results: undefined };
  try {
    const [values = [], resultValues = []] = await sheets.readMany([quoteSheetName(config.sheets.sheet), quoteSheetName(tab)]);
    return { values, results: parseResults(resultValues, { idHeader: config.columns.id ?? '', outputs: config.output.columns }) };
  } catch (error) {
    if (!(error instanceof SheetsError) || error.status !== 400) throw error;
    return { values: await sheets.read(quoteSheetName(config.sheets.sheet)), results: undefined };
  }
}
