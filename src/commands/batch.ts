import { randomUUID } from 'node:crypto';
import { TERMINAL, applyResults, refreshJob, submitBatch, type SubmitResult } from '../batch/api.js';
import { batchJobsOf, type BatchJob, type BatchJobs } from '../batch/jobs.js';
import { openStore, type Store } from '../cache/index.js';
import type { Config, Secrets } from '../config/index.js';
import { LockedError, StatusValidatorError, UsageError, redact } from '../errors.js';
import { costOf, factsOf, priceOf, priceTable } from '../llm/index.js';
import { holdLock, primaryProvider, runPortfolio, runValidation } from '../pipeline/index.js';
import { duration, formatUsd, plural, portfolioTotal, renderPortfolio, renderSummary, type TargetLine } from '../report/index.js';
import { sameTab } from '../sheets/index.js';
import { EXIT, exitCodeOf, exitCodeOfTarget, worstExit } from './exit.js';
import { loadTargets, logLine, systemClock, type CommandIO } from './context.js';
import { announce, announceFailure, announcerFor, type Announcer } from './announce.js';

/**
 * The Batch API over a config's targets (or the one --target names). Each target submits
 * under its own lock and gets its own jobs, recorded with its spreadsheet and tab; a job's
 * answers go to the cache, and only its own target's tab is then written from there: a
 * job is never applied to a tab it was not submitted for. A file without `targets:`
 * prints as it always did.
 */
interface Ctx {
  targets: Config[];
  /** The file lists targets: lines name their target. */
  listed: boolean;
  secrets: Secrets;
  warnings: string[];
  store: Store;
  jobs: BatchJobs;
  io: CommandIO;
  /** The commands that write verdicts (run --mode batch, batch results) tell `notify:` as `run` does (issue 22). */
  announcer?: Announcer;
}

type Flags = { config: string; target?: string };

async function withJobs<T>(flags: Flags, io: CommandIO, fn: (ctx: Ctx) => Promise<T>): Promise<T> {
  const { targets, listed, secrets, warnings } = loadTargets(flags.config, io, flags.target);
  // The cache is top-level: every target has the same path.
  const store = await openStore((targets[0] as Config).cache);
  try {
    return await fn({ targets, listed, secrets, warnings, store, jobs: batchJobsOf(store), io });
  } finally {
    await store.close();
  }
}

/** "[name] " before a line about one target, when the file lists targets. */
const tag = (ctx: Ctx, name: string) => (ctx.listed ? `[${name}] ` : '');

/** A job belongs to the target whose tab it was submitted for (Sheets ignores case in tab names). */
const owns = (config: Config, job: BatchJob) => job.spreadsheetId === config.sheets.spreadsheet_id && sameTab(job.sheet, config.sheets.sheet);

/** The selected targets' jobs not yet applied. */
const openJobs = async (ctx: Ctx, targets: readonly Config[] = ctx.targets) => (await ctx.jobs.list({ open: true })).filter((j) => targets.some((t) => owns(t, j)));

/**
 * Submitting holds the target's lock, like a run (exit 4 when another holds it): two
 * submits at once would both send every question, and a sync run during a submit would
 * ask what the job is about to ask.
 */
async function underLock<T>(ctx: Ctx, config: Config, fn: () => Promise<T>): Promise<T> {
  const clock = ctx.io.clock;
  const lock = await holdLock(ctx.store, config, `batch-submit-${randomUUID()}`, clock?.every ? { every: clock.every } : {});
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}

/** The jobs a command acts on: the ids given, else the selected targets' jobs not yet applied. */
async function chosen(ctx: Ctx, ids: readonly string[]): Promise<BatchJob[]> {
  if (ids.length === 0) return openJobs(ctx);
  const jobs: BatchJob[] = [];
  for (const id of ids) {
    const job = await ctx.jobs.get(id);
    if (!job) throw new UsageError(`No batch job ${id} in ${ctx.store.location}.`, { hint: 'status-validator batch list shows the recorded jobs.' });
    jobs.push(job);
  }
  return jobs;
}

/**
 * Submits each target in turn (in turn, so that a question two targets share is sent
 * once: the second finds it pending). A target whose lock is held or whose tab cannot be
 * read is reported under its name; the others are submitted. Returns each target's exit code.
 */
async function submitAll(ctx: Ctx, force: boolean, say: (line: string) => void, recheckOlderThanMs?: number): Promise<{ codes: Map<string, number>; jobs: number }> {
  const codes = new Map<string, number>();
  let jobs = 0;
  for (const config of ctx.targets) {
    const name = config.target.name;
    let result: SubmitResult;
    try {
      result = await underLock(ctx, config, () => submitBatch(config, ctx.secrets, ctx.store, (ctx.io.clock ?? systemClock).now(), force, recheckOlderThanMs));
    } catch (error) {
      // `on: failed` hears of a target that could not submit (its lock held: exit 4), as of a run that failed.
      if (ctx.announcer && error instanceof StatusValidatorError) await announceFailure(ctx.announcer, config, error, ctx.io, 'batch');
      // A single target fails as it always did: its error is the command's.
      if (!ctx.listed || !(error instanceof StatusValidatorError)) throw error;
      codes.set(name, error instanceof LockedError ? EXIT.locked : EXIT.fatal);
      ctx.io.stderr.write(`${redact(`Error: [${name}] nothing submitted: ${error.message}${error.hint ? `\nFix: ${error.hint}` : ''}`, ctx.secrets.all)}\n`);
      continue;
    }
    codes.set(name, EXIT.ok);
    jobs += result.jobs.length;
    for (const job of result.jobs) say(`${tag(ctx, name)}submitted ${job.id}: ${plural(job.requests, 'request')} to ${job.model} (file ${job.inputFileId})`);
    if (result.jobs.length === 0) say(`${tag(ctx, name)}Nothing to submit: every row has a verdict or is already in a pending job.`);
    if (result.alreadyPending > 0) say(`${tag(ctx, name)}${result.alreadyPending === 1 ? '1 question is' : `${result.alreadyPending} questions are`} already in jobs not yet applied; not sent again.`);
  }
  return { codes, jobs };
}

/**
 * Jobs go to the first provider: its kind must have a Batch API (src/llm/kinds; Ollama,
 * vLLM, Anthropic's OpenAI layer and OpenRouter have none). Said before anything is sent.
 */
function requireBatchApi(targets: readonly Config[]): void {
  // A batch line asks one model; a cascade asks the small one, then (hours later) maybe the large one.
  const cascaded = targets.find((t) => t.llm.cascade);
  if (cascaded) {
    throw new UsageError(`llm.cascade (target "${cascaded.target.name}") asks each row of the small model first and, below its calibrated threshold, of the large one: the Batch API asks one model per request, so a cascade runs in sync mode only.`, {
      hint: 'Run without --mode batch, or drop llm.cascade for the targets you want answered by the Batch API.',
    });
  }
  const first = targets[0]?.llm.providers[0];
  if (!first) return;
  const facts = factsOf(first);
  if (facts.batch) return;
  throw new UsageError(`the Batch API is not available for provider "${first.name}" (${facts.label}, kind ${facts.kind}): it has no /v1/batches.`, {
    hint: 'Run without --mode batch (sync answers now), or put first under llm.providers a provider that has one (OpenAI, Azure with a Global-Batch deployment, Gemini, Groq).',
  });
}

export async function batchSubmit(flags: Flags & { force?: boolean }, io: CommandIO): Promise<number> {
  return withJobs(flags, io, async (ctx) => {
    requireBatchApi(ctx.targets);
    const { codes, jobs } = await submitAll(ctx, flags.force ?? false, (line) => io.stdout.write(`${line}\n`));
    if (jobs > 0) io.stdout.write('Results come within 24 h: status-validator batch wait, then batch results (or batch results later: jobs survive restarts).\n');
    return worstExit([...codes.values()]);
  });
}

/** The target a job is shown under: its recorded name (a job of a target since renamed keeps the old one). */
const nameOf = (ctx: Ctx, job: BatchJob) => ctx.targets.find((t) => owns(t, job))?.target.name ?? job.target;

export async function batchStatus(flags: Flags, ids: string[], io: CommandIO): Promise<number> {
  return withJobs(flags, io, async (ctx) => {
    const provider = primaryProvider(ctx.targets[0] as Config, ctx.secrets);
    const list = await chosen(ctx, ids);
    if (list.length === 0) io.stdout.write('No batch jobs waiting for results.\n');
    for (const job of list) {
      const p = await refreshJob(provider, ctx.jobs, job.id);
      io.stdout.write(`${tag(ctx, nameOf(ctx, job))}${job.id}: ${p.status}, ${p.completed}/${p.total} done, ${p.failed} failed (submitted ${job.createdAt})\n`);
    }
    return 0;
  });
}

export async function batchWait(flags: Flags & { every: number }, ids: string[], io: CommandIO): Promise<number> {
  return withJobs(flags, io, async (ctx) => waitFor(ctx, await chosen(ctx, ids), flags.every));
}

async function waitFor(ctx: Ctx, list: BatchJob[], every: number): Promise<number> {
  const provider = primaryProvider(ctx.targets[0] as Config, ctx.secrets);
  const clock = ctx.io.clock ?? systemClock;
  const started = clock.now().getTime();
  if (list.length === 0) logLine(ctx.io, 'No batch jobs waiting for results: nothing to wait for (batch list shows the recorded jobs).');
  for (const job of list.filter((j) => TERMINAL.has(j.status))) logLine(ctx.io, `${tag(ctx, nameOf(ctx, job))}${job.id}: ${job.status} already; batch results applies it`);
  const open = new Map(list.filter((j) => !TERMINAL.has(j.status)).map((j) => [j.id, j]));
  if (open.size > 0) logLine(ctx.io, `waiting for ${plural(open.size, 'batch job')} (${[...open.keys()].join(', ')}): a line per job every ${duration(every)}; Ctrl-C stops waiting, not the jobs (batch results applies them later)`);
  while (open.size > 0 && !ctx.io.stop?.aborted) {
    for (const [id, job] of [...open]) {
      const p = await refreshJob(provider, ctx.jobs, id);
      // The provider counts no request while it validates the file: 0/0 would read as done.
      const counts = p.total > 0 ? `${p.completed}/${p.total} done (${Math.floor(((p.completed + p.failed) * 100) / p.total)}%), ${p.failed} failed` : 'no request counted yet';
      logLine(ctx.io, `${tag(ctx, nameOf(ctx, job))}${id}: ${p.status}, ${counts}; waited ${duration(clock.now().getTime() - started)}`);
      if (TERMINAL.has(p.status)) open.delete(id);
    }
    if (open.size > 0) await clock.sleep(every, ctx.io.stop).catch(() => undefined);
  }
  return open.size === 0 ? 0 : 130;
}

export async function batchResults(flags: Flags & { json?: boolean }, ids: string[], io: CommandIO): Promise<number> {
  return withJobs(flags, io, async (bare) => {
    const ctx = withAnnouncer(bare, flags.config);
    return resultsOf(ctx, await chosen(ctx, ids), ids.length > 0, flags.json ?? false);
  });
}

/** The context with its announcer: a json destination without its secret is a config problem (exit 2) before anything is done. */
function withAnnouncer(ctx: Ctx, file: string): Ctx {
  return { ...ctx, announcer: announcerFor(file, ctx.targets, ctx.secrets, ctx.io.env) };
}

/**
 * Applies every finished job's results to the cache, then writes each job's own target's
 * tab from it (identity-checked, asking nothing). Jobs named by id write only their targets;
 * a job of no selected target is refused, never applied elsewhere.
 */
async function resultsOf(ctx: Ctx, list: BatchJob[], named: boolean, json: boolean): Promise<number> {
  const provider = primaryProvider(ctx.targets[0] as Config, ctx.secrets);
  const price = priceOf(provider.model, priceTable((ctx.targets[0] as Config).pricing));
  let failed = 0;
  let refused = false;
  const touched = new Set<Config>();
  const applied: AppliedJob[] = [];
  // What was applied goes to stdout with the summary (with --json, into it; the line to stderr).
  const say = (line: string) => (json ? ctx.io.stderr : ctx.io.stdout).write(`${line}\n`);
  for (const listed of list) {
    const owner = ctx.targets.find((t) => owns(t, listed));
    if (!owner) {
      refused = true;
      ctx.io.stderr.write(
        `Error: ${listed.id} was submitted for "${listed.sheet}" in ${listed.spreadsheetId} (target "${listed.target}"), which is not a selected target of this config; it is not applied.\nFix: pass the --target whose tab it was submitted for (status-validator batch list shows each job's target).\n`,
      );
      continue;
    }
    touched.add(owner);
    const at = tag(ctx, owner.target.name);
    await refreshJob(provider, ctx.jobs, listed.id);
    const job = (await ctx.jobs.get(listed.id)) ?? listed;
    if (job.appliedAt) continue;
    if (!TERMINAL.has(job.status)) {
      ctx.io.stderr.write(`${at}${job.id} is still ${job.status}; its results are not ready (batch wait, or try later).\n`);
      continue;
    }
    const result = await applyResults(provider, ctx.jobs, ctx.store, job, owner.rules.allowed_statuses ?? []);
    await ctx.jobs.markApplied(job.id, { answered: result.answered, keptNewer: result.keptNewer, failed: result.failed.length, usage: result.usage });
    failed += result.failed.length;
    const costUsd = price ? costOf(result.usage, price, true) : null;
    const verdicts = await verdictsOf(ctx, job, result.failed, owner.review.min_confidence);
    applied.push({ target: owner.target.name, id: job.id, status: job.status, answered: result.answered, keptNewer: result.keptNewer, failed: result.failed.length, ...verdicts, promptTokens: result.usage.promptTokens, completionTokens: result.usage.completionTokens, costUsd });
    const kept = result.keptNewer > 0 ? ` (${result.keptNewer} not saved: a newer verdict was stored after the job was submitted)` : '';
    const cost = costUsd === null ? 'cost unknown (no price for this model)' : `${formatUsd(costUsd)} at the batch price`;
    say(`${at}${job.id} (${job.status}): ${plural(result.answered, 'answer')} saved${kept}, ${result.failed.length} failed; verdicts ${verdicts.valid} VALID, ${verdicts.invalid} INVALID${verdicts.needsReview ? ` (${verdicts.needsReview} NEEDS REVIEW: the model was unsure)` : ''}; ${result.usage.promptTokens} prompt and ${result.usage.completionTokens} answer tokens, ${cost}`);
    for (const f of result.failed.slice(0, 10)) say(`  failed ${f.customId}: ${redact(f.reason, ctx.secrets.all)}`);
    if (result.failed.length > 0) say('  Failed lines are asked again by the next run (sync) or batch submit.');
  }
  // Jobs named by id write their own targets only; otherwise every selected target is brought up to date.
  const writeTo = named ? ctx.targets.filter((t) => touched.has(t)) : ctx.targets;
  const code = await writeFromCache(ctx, writeTo, json, applied);
  const worst = worstExit([code, refused ? EXIT.usage : EXIT.ok]);
  return worst === EXIT.ok && failed > 0 ? EXIT.rowErrors : worst;
}

/** The verdicts are in the cache: a run that asks nothing writes them to each target's tab, identity-checked. */
async function writeFromCache(ctx: Ctx, targets: readonly Config[], json: boolean, applied: readonly AppliedJob[]): Promise<number> {
  if (targets.length === 0) return EXIT.ok;
  const options = { limit: 0, trigger: 'batch', warnings: ctx.warnings, store: ctx.store, ...(ctx.io.stop ? { stop: ctx.io.stop } : {}) };
  const [only] = targets;
  if (!ctx.listed && only) {
    const summary = await runValidation(only, ctx.secrets, { ...options, warnings: [] }).catch(async (error: unknown) => {
      // No run to report (its lock held): `on: failed` still hears of it, as with `run`.
      if (ctx.announcer && error instanceof StatusValidatorError) await announceFailure(ctx.announcer, only, error, ctx.io, 'batch');
      throw error;
    });
    // After the writes (invariant 12), before the summary: a failed delivery is one of its warnings.
    if (ctx.announcer) await announce(ctx.announcer, [{ summary, locked: false }], ctx.io, { trigger: 'batch' });
    ctx.io.stdout.write(`${redact(json ? JSON.stringify({ ...summary, batch: applied }, null, 2) : renderSummary(summary), ctx.secrets.all)}\n`);
    return exitCodeOf(summary);
  }
  const run = await runPortfolio(targets, ctx.secrets, options);
  if (ctx.announcer) await announce(ctx.announcer, run.targets, ctx.io, { trigger: 'batch' });
  const lines: TargetLine[] = run.targets.map((t) => ({ ...t, exitCode: exitCodeOfTarget(t) }));
  const exitCode = worstExit(lines.map((l) => l.exitCode));
  const text = json
    ? JSON.stringify({ group: run.group, exitCode, total: portfolioTotal(lines), targets: lines.map((l) => ({ ...l.summary, locked: l.locked, exitCode: l.exitCode })), batch: applied }, null, 2)
    : renderPortfolio(lines, exitCode);
  ctx.io.stdout.write(`${redact(text, ctx.secrets.all)}\n`);
  return exitCode;
}

/** A job's results as `batch results` reports them (stdout, and `batch` in --json). */
interface AppliedJob {
  target: string;
  id: string;
  status: string;
  answered: number;
  keptNewer: number;
  failed: number;
  /** The verdicts the cache now holds for the job's questions that did not fail. */
  valid: number;
  invalid: number;
  /** Of those, below review.min_confidence: the sheet shows NEEDS REVIEW. */
  needsReview: number;
  promptTokens: number;
  completionTokens: number;
  /** At the batch price; null when the model's price is unknown. */
  costUsd: number | null;
}

/** The verdicts of a job's answered questions, as the cache holds them now. */
async function verdictsOf(ctx: Ctx, job: BatchJob, failed: ReadonlyArray<{ customId: string }>, minConfidence: number | undefined): Promise<{ valid: number; invalid: number; needsReview: number }> {
  const lost = new Set(failed.map((f) => f.customId));
  const out = { valid: 0, invalid: 0, needsReview: 0 };
  const lines = await ctx.jobs.lines(job.id);
  const { verdicts } = await ctx.store.lookup([...lines.values()].flatMap((questions) => questions.map((q) => q.key)));
  for (const [customId, questions] of lines) {
    for (const q of questions) {
      if (lost.has(customId) || lost.has(`${customId}/${q.label}`)) continue;
      const cached = verdicts.get(q.key);
      if (cached?.verdict === 'VALID') out.valid++;
      else if (cached?.verdict === 'INVALID') out.invalid++;
      if (cached && minConfidence !== undefined && cached.confidence < minConfidence) out.needsReview++;
    }
  }
  return out;
}

export async function batchCancel(flags: Flags, id: string, io: CommandIO): Promise<number> {
  return withJobs(flags, io, async (ctx) => {
    await chosen(ctx, [id]);
    const provider = primaryProvider(ctx.targets[0] as Config, ctx.secrets);
    const batch = await provider.batchApi.batches.cancel(id);
    await ctx.jobs.update(id, { status: batch.status });
    io.stdout.write(`${id}: ${batch.status}. Answers already made are applied by batch results.\n`);
    return 0;
  });
}

/** Every job of the cache (with --target: that target's), newest first, each with its target. */
export async function batchList(flags: Flags & { json?: boolean }, io: CommandIO): Promise<number> {
  return withJobs(flags, io, async (ctx) => {
    const all = await ctx.jobs.list();
    const list = flags.target === undefined ? all : all.filter((j) => ctx.targets.some((t) => owns(t, j)));
    if (flags.json) io.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
    else if (list.length === 0) io.stdout.write('No batch jobs recorded.\n');
    else
      for (const j of list)
        io.stdout.write(`${j.id}  ${ctx.listed ? `${nameOf(ctx, j)}  ` : ''}${j.status.padEnd(11)} ${String(j.requests).padStart(6)} requests  ${j.model}  submitted ${j.createdAt}  ${j.appliedAt ? `applied ${j.appliedAt}` : 'not applied'}\n`);
    return Promise.resolve(0);
  });
}

/** `run --mode batch`: submit every target, wait, apply, write each target's tab, in one go. */
export async function batchRun(flags: Flags & { force?: boolean; json?: boolean; every: number; recheckOlderThan?: number | undefined }, io: CommandIO): Promise<number> {
  return withJobs(flags, io, async (bare) => {
    const ctx = withAnnouncer(bare, flags.config);
    requireBatchApi(ctx.targets);
    // --recheck-older-than holds in batch mode too: the rows it makes old are submitted.
    const { codes } = await submitAll(ctx, flags.force ?? false, (line) => logLine(io, line), flags.recheckOlderThan);
    // A target whose submit failed is left alone: its jobs (if any) wait for the next batch results.
    const submitted = ctx.targets.filter((t) => codes.get(t.target.name) === EXIT.ok);
    const open = await openJobs(ctx, submitted);
    const waited = await waitFor(ctx, open, flags.every);
    if (waited !== 0) return waited;
    const written = await resultsOf({ ...ctx, targets: submitted }, open, false, flags.json ?? false);
    return worstExit([written, ...codes.values()]);
  });
}
