import { randomUUID } from 'node:crypto';
import { TERMINAL, applyResults, refreshJob, submitBatch } from '../batch/api.js';
import { BatchJobs, type BatchJob } from '../batch/jobs.js';
import { CacheStore } from '../cache/index.js';
import type { Config, Secrets } from '../config/index.js';
import { UsageError, redact } from '../errors.js';
import { costOf, priceOf, priceTable } from '../llm/index.js';
import { holdLock, primaryProvider, runValidation } from '../pipeline/index.js';
import { formatUsd, renderSummary } from '../report/index.js';
import { exitCodeOf } from '../cli/exit.js';
import { load, logLine, systemClock, type CommandIO } from './context.js';

interface Ctx {
  config: Config;
  secrets: Secrets;
  store: CacheStore;
  jobs: BatchJobs;
  io: CommandIO;
}

async function withJobs<T>(configFile: string, io: CommandIO, fn: (ctx: Ctx) => Promise<T>): Promise<T> {
  const { config, secrets } = load(configFile, io);
  const store = CacheStore.open(config.cache.path);
  try {
    return await fn({ config, secrets, store, jobs: new BatchJobs(store), io });
  } finally {
    store.close();
  }
}

/**
 * Submitting holds the sheet's lock, like a run (exit 4 when another holds it): two
 * submits at once would both send every question, and a sync run during a submit would
 * ask what the job is about to ask.
 */
async function underLock<T>(ctx: Ctx, fn: () => Promise<T>): Promise<T> {
  const clock = ctx.io.clock;
  const lock = holdLock(ctx.store, ctx.config, `batch-submit-${randomUUID()}`, clock?.every ? { every: clock.every } : {});
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

/** The jobs a command acts on: the ids given, else this sheet's jobs not yet applied. */
function chosen(ctx: Ctx, ids: readonly string[]): BatchJob[] {
  if (ids.length === 0) return ctx.jobs.list({ spreadsheetId: ctx.config.sheets.spreadsheet_id, sheet: ctx.config.sheets.sheet, open: true });
  return ids.map((id) => {
    const job = ctx.jobs.get(id);
    if (!job) throw new UsageError(`No batch job ${id} in ${ctx.config.cache.path}.`, { hint: 'status-validator batch list shows the recorded jobs.' });
    return job;
  });
}

export async function batchSubmit(flags: { config: string; force?: boolean }, io: CommandIO): Promise<number> {
  return withJobs(flags.config, io, async (ctx) => {
    const result = await underLock(ctx, () => submitBatch(ctx.config, ctx.secrets, ctx.store, (io.clock ?? systemClock).now(), flags.force ?? false));
    for (const job of result.jobs) io.stdout.write(`submitted ${job.id}: ${job.requests} requests to ${job.model} (file ${job.inputFileId})\n`);
    if (result.jobs.length === 0) io.stdout.write('Nothing to submit: every row has a verdict or is already in a pending job.\n');
    if (result.alreadyPending > 0) io.stdout.write(`${result.alreadyPending} questions are already in jobs not yet applied; not sent again.\n`);
    if (result.jobs.length > 0) io.stdout.write('Results come within 24 h: status-validator batch wait, then batch results (or batch results later: jobs survive restarts).\n');
    return 0;
  });
}

export async function batchStatus(flags: { config: string }, ids: string[], io: CommandIO): Promise<number> {
  return withJobs(flags.config, io, async (ctx) => {
    const provider = primaryProvider(ctx.config, ctx.secrets);
    const list = chosen(ctx, ids);
    if (list.length === 0) io.stdout.write('No batch jobs waiting for results.\n');
    for (const job of list) {
      const p = await refreshJob(provider, ctx.jobs, job.id);
      io.stdout.write(`${job.id}: ${p.status}, ${p.completed}/${p.total} done, ${p.failed} failed (submitted ${job.createdAt})\n`);
    }
    return 0;
  });
}

export async function batchWait(flags: { config: string; every: number }, ids: string[], io: CommandIO): Promise<number> {
  return withJobs(flags.config, io, async (ctx) => waitFor(ctx, chosen(ctx, ids), flags.every));
}

async function waitFor(ctx: Ctx, list: BatchJob[], every: number): Promise<number> {
  const provider = primaryProvider(ctx.config, ctx.secrets);
  const clock = ctx.io.clock ?? systemClock;
  const open = new Set(list.filter((j) => !TERMINAL.has(j.status)).map((j) => j.id));
  while (open.size > 0 && !ctx.io.stop?.aborted) {
    for (const id of [...open]) {
      const p = await refreshJob(provider, ctx.jobs, id);
      logLine(ctx.io, `${id}: ${p.status}, ${p.completed}/${p.total} done, ${p.failed} failed`);
      if (TERMINAL.has(p.status)) open.delete(id);
    }
    if (open.size > 0) await clock.sleep(every, ctx.io.stop).catch(() => undefined);
  }
  return open.size === 0 ? 0 : 130;
}

export async function batchResults(flags: { config: string; json?: boolean }, ids: string[], io: CommandIO): Promise<number> {
  return withJobs(flags.config, io, (ctx) => resultsOf(ctx, chosen(ctx, ids), flags.json ?? false));
}

/** Applies every finished job's results to the cache, then writes the sheet from it. */
async function resultsOf(ctx: Ctx, list: BatchJob[], json: boolean): Promise<number> {
  const provider = primaryProvider(ctx.config, ctx.secrets);
  const price = priceOf(provider.model, priceTable(ctx.config.pricing));
  let failed = 0;
  for (const listed of list) {
    await refreshJob(provider, ctx.jobs, listed.id);
    const job = ctx.jobs.get(listed.id) ?? listed;
    if (job.appliedAt) continue;
    if (!TERMINAL.has(job.status)) {
      ctx.io.stderr.write(`${job.id} is still ${job.status}; its results are not ready (batch wait, or try later).\n`);
      continue;
    }
    const applied = await applyResults(provider, ctx.jobs, ctx.store, job, ctx.config.rules.allowed_statuses ?? []);
    ctx.jobs.markApplied(job.id, { answered: applied.answered, keptNewer: applied.keptNewer, failed: applied.failed.length, usage: applied.usage });
    failed += applied.failed.length;
    const cost = price ? formatUsd(costOf(applied.usage, price, true)) : 'unknown';
    const kept = applied.keptNewer > 0 ? ` (${applied.keptNewer} not saved: a newer verdict was stored after the job was submitted)` : '';
    ctx.io.stderr.write(`${job.id} (${job.status}): ${applied.answered} answers saved${kept}, ${applied.failed.length} failed; ${applied.usage.promptTokens} prompt and ${applied.usage.completionTokens} answer tokens, ${cost} at the batch price\n`);
    for (const f of applied.failed.slice(0, 10)) ctx.io.stderr.write(`  failed ${f.customId}: ${redact(f.reason, ctx.secrets.all)}\n`);
    if (applied.failed.length > 0) ctx.io.stderr.write('  Failed lines are asked again by the next run (sync) or batch submit.\n');
  }
  // The verdicts are in the cache: a run that asks nothing writes them, identity-checked.
  const summary = await runValidation(ctx.config, ctx.secrets, { limit: 0, trigger: 'batch', warnings: [], ...(ctx.io.stop ? { stop: ctx.io.stop } : {}) });
  ctx.io.stdout.write(`${redact(json ? JSON.stringify(summary, null, 2) : renderSummary(summary), ctx.secrets.all)}\n`);
  const code = exitCodeOf(summary);
  return code === 0 && failed > 0 ? 3 : code;
}

export async function batchCancel(flags: { config: string }, id: string, io: CommandIO): Promise<number> {
  return withJobs(flags.config, io, async (ctx) => {
    chosen(ctx, [id]);
    const provider = primaryProvider(ctx.config, ctx.secrets);
    const batch = await provider.api.batches.cancel(id);
    ctx.jobs.update(id, { status: batch.status });
    io.stdout.write(`${id}: ${batch.status}. Answers already made are applied by batch results.\n`);
    return 0;
  });
}

export async function batchList(flags: { config: string; json?: boolean }, io: CommandIO): Promise<number> {
  return withJobs(flags.config, io, (ctx) => {
    const list = ctx.jobs.list();
    if (flags.json) io.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
    else if (list.length === 0) io.stdout.write('No batch jobs recorded.\n');
    else for (const j of list) io.stdout.write(`${j.id}  ${j.status.padEnd(11)} ${String(j.requests).padStart(6)} requests  ${j.model}  submitted ${j.createdAt}  ${j.appliedAt ? `applied ${j.appliedAt}` : 'not applied'}\n`);
    return Promise.resolve(0);
  });
}

/** `run --mode batch`: submit, wait, apply, write, in one go. */
export async function batchRun(flags: { config: string; force?: boolean; json?: boolean; every: number }, io: CommandIO): Promise<number> {
  return withJobs(flags.config, io, async (ctx) => {
    const submitted = await underLock(ctx, () => submitBatch(ctx.config, ctx.secrets, ctx.store, (io.clock ?? systemClock).now(), flags.force ?? false));
    for (const job of submitted.jobs) logLine(io, `submitted ${job.id}: ${job.requests} requests`);
    const open = ctx.jobs.list({ spreadsheetId: ctx.config.sheets.spreadsheet_id, sheet: ctx.config.sheets.sheet, open: true });
    const waited = await waitFor(ctx, open, flags.every);
    if (waited !== 0) return waited;
    return resultsOf(ctx, open, flags.json ?? false);
  });
}
