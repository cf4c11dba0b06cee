import type { Store } from '../cache/index.js';
import type { Config, Secrets } from '../config/index.js';
import { RemoteError, SheetsError, StatusValidatorError, redact } from '../errors.js';
import { hasWork, lookupIn, questionPlanOf, runPortfolio, selectWork, setAsidePending, sheetsClientFor, snapshotOf, type QuestionPlan, type TargetOutcome } from '../pipeline/index.js';
import { ChunkSizer, chunkTargetBytes, lastRowOf, mapHeaders, parseResults, quoteSheetName, readChunks, readEntries, readFirstRows, sameTab, showResults, type CellValues, type Entry, type ParsedResults, type SheetsClient } from '../sheets/index.js';
import { loadTargets, logLine, systemClock, type Clock, type CommandIO } from './context.js';
import { openLasting, portfolioLog } from './lasting.js';
import { announce, announceFailure, announcerFor, Background, type Announcer } from './announce.js';
import { metricsEvents, startObserving } from './observe.js';
import { plural } from '../plural.js';
import { EXIT, exitCodeOfTarget } from './exit.js';

export interface WatchFlags {
  config: string;
  /** Only this target of the config (default: all of them). */
  target?: string;
  /** Milliseconds between polls. */
  every: number;
  /** Stop after this many polls (for trying it out, and for tests). */
  polls?: number;
  /** Serve GET /metrics on this port (issue 22). */
  metricsPort?: number;
  metricsHost?: string;
}

/** A watched target: what its polls need, made once, and whether it is failing. */
interface Watched {
  config: Config;
  /** Shared with the runs it starts, whose last writes are never aborted. */
  sheets: SheetsClient;
  /** Its config resolved once for every poll: the layout, the keyer, the recheck age. */
  plan: QuestionPlan;
  /** Why its last poll or run failed (a 403, a missing tab); undefined while it is fine. */
  failing: string | undefined;
  /** The ERROR rows its last run ended with (their ids), told to `on: errors` once: the same set again is not told again. */
  errorRows?: string | undefined;
  /**
   * Results-tab mode: the data tab's gid, which tells its lines from another target's in
   * a shared results tab (LineIndex). Read once (a tab keeps its gid); forgotten after
   * each run, which would have recreated a deleted tab.
   */
  sourceGid?: number | undefined;
}

/** What one poll found in one target: nothing to do, work (and the tab as read), or a failure. */
type Look = { kind: 'quiet' } | { kind: 'work'; values: CellValues | undefined } | { kind: 'skipped'; reason: string } | { kind: 'failed'; error: StatusValidatorError };

/**
 * `watch`: makes the sheets themselves the trigger. Each poll reads each target as `run`
 * does, in chunks (the results tab in the same batchGet as the data tab's first rows) and runs, together and
 * through the one provider gate of the process, only the targets where a row changed,
 * a box was ticked or a verdict is missing; a quiet poll costs one read call per chunk of
 * each target (one for a tab under about 1.5 MB, the results tab in the same call) and nothing else. A passing outage or a held lock skips a target for one poll.
 *
 * A target that fails for good (no access, a missing tab, a failed run) is logged
 * loudly, once per new reason, and polled again at every poll: a sheet shared again or
 * a tab restored is picked up without a restart, and the other targets are watched on.
 * Only when every target is failing does the watch stop (exit 1), as a watch of one
 * target does: a supervisor restarts it, someone reads why. Ends on SIGINT/SIGTERM (exit 0).
 */
export async function watchCommand(flags: WatchFlags, io: CommandIO): Promise<number> {
  const { targets, listed, secrets, warnings } = loadTargets(flags.config, io, flags.target);
  for (const warning of warnings) logLine(io, `warning: ${warning}`);
  const clock = io.clock ?? systemClock;
  const watched: Watched[] = targets.map((config) => ({
    config,
    sheets: sheetsClientFor(config, secrets),
    plan: questionPlanOf(config),
    failing: undefined,
  }));
  const seconds = flags.every / 1000;
  if (!listed && targets[0]) logLine(io, `watching "${targets[0].sheets.sheet}" in ${targets[0].sheets.spreadsheet_id} every ${seconds} s (Ctrl-C to stop)`);
  else logLine(io, `watching ${plural(targets.length, 'target')} every ${seconds} s (Ctrl-C to stop): ${targets.map((t) => `${t.target.name} ("${t.sheets.sheet}" in ${t.sheets.spreadsheet_id})`).join(', ')}`);
  const observing = await startObserving(flags, io);
  const announcer = announcerFor(flags.config, targets, secrets, io.env, observing.metrics);
  const background = new Background();
  const lasting = await openLasting(targets, secrets, (line) => logLine(io, line));
  try {
    for (let poll = 1; !io.stop?.aborted && (flags.polls === undefined || poll <= flags.polls); poll++) {
      const code = await onePoll(poll, watched, { io, secrets, listed, clock, store: lasting.store, gates: lasting.gates, announcer, background });
      if (code !== undefined) return code;
      if (flags.polls !== undefined && poll >= flags.polls) break;
      await clock.sleep(flags.every, io.stop).catch(() => undefined);
    }
  } finally {
    await lasting.close();
    // Deliveries under way end within their budget; then the metrics server closes.
    await background.drain();
    await observing.close();
  }
  logLine(io, 'watch stopped');
  return 0;
}

interface PollContext {
  io: CommandIO;
  secrets: Secrets;
  listed: boolean;
  clock: Clock;
  store: Store;
  gates: Awaited<ReturnType<typeof openLasting>>['gates'];
  announcer: Announcer;
  background: Background;
}

/** One poll over every target: read each, run those with work together. An exit code when the watch must end. */
async function onePoll(poll: number, watched: readonly Watched[], ctx: PollContext): Promise<number | undefined> {
  const { io, secrets, listed, clock } = ctx;
  const say = (line: string) => logLine(io, redact(line, secrets.all));
  const at = (w: Watched) => (listed ? `[${w.config.target.name}] ` : '');
  const looks = await Promise.all(watched.map((w) => look(w, ctx.store, clock)));
  const work: Array<{ watched: Watched; values: CellValues | undefined }> = [];
  looks.forEach((found, i) => {
    const w = watched[i] as Watched;
    if (found.kind === 'work') work.push({ watched: w, values: found.values });
    else if (found.kind === 'skipped') say(`${at(w)}poll ${poll} skipped: ${found.reason}`);
    else if (found.kind === 'failed') {
      const reason = `cannot be read: ${found.error.message}${found.error.hint ? ` Fix: ${found.error.hint}` : ''}`;
      // A target newly failing (a key expired, a share withdrawn) is told once, in the background.
      if (listed && w.failing !== reason) ctx.background.track(announceFailure(ctx.announcer, w.config, found.error, io, 'watch').then((warnings) => warnings.forEach((x) => say(`warning: ${x}`))));
      fail(w, reason, say, at);
    }
    else recover(w, say, at);
  });
  // A watch of one target ends on what it cannot read, as it always did: the CLI says why.
  const [only] = looks;
  if (!listed && only?.kind === 'failed') {
    if (watched[0]) await announceFailure(ctx.announcer, watched[0].config, only.error, io, 'watch');
    throw only.error;
  }
  if (work.length > 0) {
    for (const { watched: w } of work) w.sourceGid = undefined;
    const run = await runPortfolio(
      work.map((w) => w.watched.config),
      secrets,
      {
        trigger: 'watch',
        gates: ctx.gates,
        store: ctx.store,
        each: (config, i) => ({ sheets: (work[i] as (typeof work)[number]).watched.sheets, ...preread((work[i] as (typeof work)[number]).values), ...metricsEvents(ctx.announcer.metrics, config) }),
        warnings: [],
        now: () => clock.now(),
        ...(clock.every ? { every: clock.every } : {}),
        ...(io.stop ? { stop: io.stop } : {}),
        ...(io.abort ? { abort: io.abort } : {}),
      },
    );
    for (const line of portfolioLog(run.targets, listed)) say(line);
    // `on: errors` hears of a target's ERROR rows when they change, not at every poll that retries the same ones (as read failures are told once).
    const alreadyTold = new Set(run.targets.filter((outcome, i) => errorsSeen((work[i] as (typeof work)[number]).watched, outcome)).map((o) => o.summary));
    // In the background (issue 22): the next poll never waits for a receiver.
    ctx.background.track(announce(ctx.announcer, run.targets, io, { trigger: 'watch', errorsAlreadyTold: (o) => alreadyTold.has(o.summary) }).then((warnings) => warnings.forEach((w) => say(`warning: ${w}`))));
    run.targets.forEach((outcome, i) => {
      const w = (work[i] as (typeof work)[number]).watched;
      if (outcome.locked) return;
      if (outcome.summary.status === 'failed') fail(w, `its run failed: ${outcome.summary.fatal?.message ?? 'see the line above'}`, say, at, true);
      else recover(w, say, at);
    });
  }
  if (watched.every((w) => w.failing !== undefined)) {
    // A failed run (bad key, no access) will fail again: stop loudly, let a supervisor restart.
    if (listed) say(`every target is failing; stopping the watch (exit 1): fix them and start it again`);
    return 1;
  }
  return undefined;
}

/** A tab the poll read whole goes to the run; a larger one the run reads itself, in chunks. */
function preread(values: CellValues | undefined): { preread?: CellValues } {
  return values === undefined ? {} : { preread: values };
}

/** Marks a target failing; logs it when the reason is new (a run's failure has its own line already). */
function fail(w: Watched, reason: string, say: (line: string) => void, at: (w: Watched) => string, logged = false): void {
  const fresh = w.failing !== reason;
  w.failing = reason;
  if (fresh && !logged) say(`${at(w)}FAILING: ${reason}; the other targets are watched on, this one is polled again every time`);
}

function recover(w: Watched, say: (line: string) => void, at: (w: Watched) => string): void {
  if (w.failing !== undefined) say(`${at(w)}recovered: polled and checked again`);
  w.failing = undefined;
}

/**
 * Reads one target and decides whether it has work; never throws for a failure of the services.
 * The tab is read as `run` reads it (issue 25): the header rows with the first rows under
 * them, then chunk by chunk (src/sheets/chunks.ts), each chunk sorted against the cache as
 * the run sorts it (chunk by chunk) and then dropped, so a poll holds one chunk, never the
 * tab. A tab that fits the first read is handed to the run (no second read); a larger one
 * is read by the run itself, in chunks: one more read of the tab on a poll that finds work.
 * The reading stops at the first chunk with work: the run reads it all anyway.
 */
async function look(w: Watched, store: Store, clock: Clock): Promise<Look> {
  const { config } = w;
  try {
    const tab = config.sheets.sheet;
    const sizer = new ChunkSizer(chunkTargetBytes());
    const asked = config.sheets.header_row + sizer.next();
    const { first, gridEnd, results } = await readPoll(w.sheets, config, asked);
    sizer.observe(asked, first);
    const layout = mapHeaders(first[config.sheets.header_row - 1] ?? [], w.plan.layout);
    const gid = results ? (w.sourceGid ??= await gidOf(w)) : 0;
    const chunkHasWork = async (entries: Entry[]): Promise<boolean> => {
      if (results) showResults(entries, results.lines, gid);
      const { keyOf, snapshot } = await snapshotOf(store, entries, w.plan.keyOf);
      const selected = selectWork(entries, keyOf, lookupIn(snapshot, w.plan.minConfidence), { force: false, limit: undefined, staleAfterMs: w.plan.staleAfterMs, now: clock.now().getTime() });
      // Rows a pending batch job will answer are no reason to run (the run would not ask them).
      return hasWork({ ...selected, jobs: setAsidePending(selected.jobs, snapshot.pending).ask });
    };
    // The whole tab came in the first read (its grid ends within it): the run is handed it.
    if (gridEnd !== undefined) return (await chunkHasWork(readEntries(first, layout).entries)) ? { kind: 'work', values: first } : { kind: 'quiet' };
    if (await chunkHasWork(readEntries(first, layout).entries)) return { kind: 'work', values: undefined };
    for await (const chunk of readChunks(w.sheets, tab, asked + 1, undefined, sizer)) {
      if (await chunkHasWork(readEntries(chunk.values, layout, chunk.firstRow).entries)) return { kind: 'work', values: undefined };
    }
    return { kind: 'quiet' };
  } catch (error) {
    // A passing outage skips one poll of this target; no access, a missing tab: it is failing.
    if (error instanceof RemoteError && (error.status === undefined || error.status === 429 || error.status >= 500)) return { kind: 'skipped', reason: error.message };
    if (error instanceof StatusValidatorError) return { kind: 'failed', error };
    throw error;
  }
}

/** The data tab's gid (0 when the list of tabs does not have it: the poll's read says what is wrong). */
async function gidOf(w: Watched): Promise<number> {
  const tabs = await w.sheets.sheetsMetadata();
  return tabs.find((t) => sameTab(t.title, w.config.sheets.sheet))?.sheetId ?? 0;
}

/**
 * One read call: the data tab's header rows and the first rows under them (with where its
 * grid ends, when it ends within them), and in results-tab mode the results tab in the
 * same batchGet. A results tab that does not exist yet shows no results: its rows are
 * work as any row showing nothing.
 */
async function readPoll(sheets: SheetsClient, config: Config, rows: number): Promise<{ first: CellValues; gridEnd: number | undefined; results: ParsedResults | undefined }> {
  const tab = config.output.sheet;
  const data = `${quoteSheetName(config.sheets.sheet)}!1:${rows}`;
  if (tab !== undefined) {
    try {
      const [read, resultsRead] = await sheets.readRanges([data, quoteSheetName(tab)]);
      const last = lastRowOf(read?.range);
      return {
        first: read?.values ?? [],
        gridEnd: last !== undefined && last < rows ? last : undefined,
        results: parseResults(resultsRead?.values ?? [], { idHeader: config.columns.id ?? '', outputs: config.output.columns }),
      };
    } catch (error) {
      if (!(error instanceof SheetsError) || error.status !== 400) throw error;
    }
  }
  const { values, gridEnd } = await readFirstRows(sheets, config.sheets.sheet, rows);
  return { first: values, gridEnd, results: undefined };
}

/**
 * Whether this run's ERROR rows are those the target's last run ended with (already told),
 * remembering them for the next poll. A run without ERROR rows forgets them: the same row
 * failing again later is news again. Locked (not run): nothing changes.
 */
function errorsSeen(w: Watched, outcome: TargetOutcome): boolean {
  if (outcome.locked) return false;
  if (exitCodeOfTarget(outcome) !== EXIT.rowErrors) {
    w.errorRows = undefined;
    return false;
  }
  const rows = `${outcome.summary.verdicts.error}:${[...new Set(outcome.summary.errors.map((e) => e.id))].sort().join('\n')}`;
  const seen = w.errorRows === rows;
  w.errorRows = rows;
  return seen;
}
