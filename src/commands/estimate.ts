import { openStore, type Store } from '../cache/index.js';
import type { Config, Secrets } from '../config/index.js';
import { StatusValidatorError, redact } from '../errors.js';
import { loadTokenizer, priceOf } from '../llm/index.js';
import { estimateCascade, localDate, primaryModel, questionPlanOf, surveyTab, type CascadeEstimate } from '../pipeline/index.js';
import { formatUsd } from '../report/index.js';
import { EXIT, worstExit } from './exit.js';
import { estimatePacking, estimateRouted, estimateTotal, renderPortfolioEstimate, type TargetEstimate } from '../estimate/index.js';
import { loadTargets, systemClock, type CommandIO } from './context.js';
import { plural } from '../plural.js';

/** Expected answer length when the cache has no history yet: a short verdict and a rewrite. */
const DEFAULT_COMPLETION_TOKENS = 120;

interface Shared {
  secrets: Secrets;
  store: Store;
  count: (text: string) => number;
  now: Date;
  force: boolean;
  io: CommandIO;
}

/**
 * `estimate`: reads each target's tab and says what a run would send — calls, tokens and
 * dollars in each mode — before anything is spent. One read call per target, no LLM call.
 * A target whose tab cannot be read (a 403, a missing tab) is reported under its name and
 * the others are still estimated; the exit code is the worst. A file without `targets:`
 * prints as it always did.
 */
export async function estimateCommand(flags: { config: string; json?: boolean; force?: boolean; target?: string }, io: CommandIO): Promise<number> {
  const { targets, listed, secrets } = loadTargets(flags.config, io, flags.target);
  const first = targets[0] as Config;
  const count = await loadTokenizer();
  const store = await openStore(first.cache);
  const shared: Shared = { secrets, store, count, now: (io.clock ?? systemClock).now(), force: flags.force ?? false, io };
  const packing = estimatePacking(first.llm);
  let estimates: TargetEstimate[];
  try {
    if (!listed) {
      // A single target fails as it always did: its error is the command's.
      estimates = [await estimateOne(first, shared)];
    } else {
      estimates = [];
      for (const config of targets) estimates.push(await estimateOrFailure(config, shared));
    }
  } finally {
    await store.close();
  }
  const packed = { requested: packing.requested, rows: packing.rows, ...(packing.cappedBy ? { cappedBy: packing.cappedBy, note: packing.note } : {}) };
  const routing = first.llm.routing;
  const cascade = first.llm.cascade;
  const model = routing ? `${routing.small} or ${routing.large} (llm.routing)` : cascade ? `${cascade.large} (large-only; llm.cascade below)` : primaryModel(first);
  const exitCode = worstExit(estimates.map((e) => ('error' in e ? EXIT.fatal : EXIT.ok)));
  const notes = ['Answer tokens are estimated from the cached answers (or 120 per row); prompt tokens are counted exactly.', ...(packing.note ? [`Packing is capped: ${packing.note}`] : [])];
  const [only] = estimates;
  if (!listed && only && 'modes' in only) {
    const c = 'cascade' in only ? only.cascade : undefined;
    if (flags.json) io.stdout.write(`${JSON.stringify({ rows: only.rows, toAsk: only.toAsk, questions: only.questions, model, packing: packed, modes: only.modes, ...(c ? { cascade: c } : {}) }, null, 2)}\n`);
    else io.stdout.write(`${[...renderOne(only, model), ...(c && cascade ? ['', ...renderCascade(c, cascade.small, cascade.large)] : []), '', ...notes].join('\n')}\n`);
    return exitCode;
  }
  if (flags.json) {
    io.stdout.write(`${redact(JSON.stringify({ model, packing: packed, exitCode, targets: estimates, total: estimateTotal(estimates) }, null, 2), secrets.all)}\n`);
  } else {
    io.stdout.write(`${redact([...renderPortfolioEstimate(estimates, model, formatUsd), '', ...notes].join('\n'), secrets.all)}\n`);
    for (const e of estimates) if ('error' in e) io.stderr.write(`${redact(`Error: [${e.target}] ${e.error.message}${e.error.hint ? `\nFix: ${e.error.hint}` : ''}`, secrets.all)}\n`);
  }
  return exitCode;
}

/** A target's estimate; a failure of this target's own (its tab unreadable) becomes its line, a bug stays a bug. */
async function estimateOrFailure(config: Config, shared: Shared): Promise<TargetEstimate> {
  try {
    return await estimateOne(config, shared);
  } catch (error) {
    if (!(error instanceof StatusValidatorError)) throw error;
    const where = { target: config.target.name, spreadsheetId: config.sheets.spreadsheet_id, sheet: config.sheets.sheet };
    return { ...where, error: { message: redact(error.message, shared.secrets.all), ...(error.hint ? { hint: error.hint } : {}) } };
  }
}

async function estimateOne(config: Config, { secrets, store, count, now, force, io }: Shared): Promise<TargetEstimate> {
  const plan = questionPlanOf(config);
  const { rows, selection } = await surveyTab(plan, secrets, store, { force, now, signal: io.abort });
  const history = await store.averageTokens();
  const cascade = config.llm.cascade;
  const modes = estimateRouted(
    {
      questions: selection.jobs.map((j) => j.inputs),
      rules: plan.rules,
      today: localDate(now),
      count,
      completionPerRow: Math.round(history?.completionTokens ?? DEFAULT_COMPLETION_TOKENS),
      packSize: estimatePacking(config.llm).rows,
    },
    // With llm.routing each row is priced at the model it is routed to, as the run asks it; with a cascade, at the large model (its worst case).
    { modelOf: cascade ? () => cascade.large : plan.modelOf, priceOf: (model) => priceOf(model, plan.prices) },
  );
  // llm.cascade: the same questions at each model's price (sync requests), then the cascade between them.
  let cascadeEstimate: CascadeEstimate | undefined;
  if (cascade) {
    const sync = (model: string) =>
      estimateRouted(
        { questions: selection.jobs.map((j) => j.inputs), rules: plan.rules, today: localDate(now), count, completionPerRow: Math.round(history?.completionTokens ?? DEFAULT_COMPLETION_TOKENS), packSize: estimatePacking(config.llm).rows },
        { modelOf: () => model, priceOf: (m) => priceOf(m, plan.prices) },
      )[1]?.costUsd ?? null;
    cascadeEstimate = await estimateCascade(store, config, cascade, selection.jobs.length, { small: sync(cascade.small), large: sync(cascade.large) });
  }
  return {
    ...(cascadeEstimate ? { cascade: cascadeEstimate } : {}),
    target: config.target.name,
    spreadsheetId: config.sheets.spreadsheet_id,
    sheet: config.sheets.sheet,
    rows,
    toAsk: selection.jobs.reduce((n, j) => n + j.entries.length, 0),
    questions: modes[0]?.requests ?? 0,
    modes,
  };
}

function renderOne(e: Extract<TargetEstimate, { modes: unknown }>, model: string): string[] {
  return [
    `${plural(e.rows, 'row')} in "${e.sheet}"; ${e.toAsk} would be asked about (${plural(e.questions, 'distinct question')}) with ${model}.`,
    '',
    'mode                                        requests   prompt tokens  (cached)   answer tokens   cost',
    ...e.modes.map(
      (m) =>
        `${m.mode.padEnd(42)} ${String(m.requests).padStart(9)} ${String(m.promptTokens).padStart(15)} ${String(m.cachedTokens).padStart(10)} ${String(m.completionTokens).padStart(15)}   ${formatUsd(m.costUsd)}`,
    ),
  ];
}

/** llm.cascade beside large-only and small-only (synchronous requests with prompt caching). */
function renderCascade(c: CascadeEstimate, small: string, large: string): string[] {
  const cascadeCost = c.cascadeUsd !== null ? formatUsd(c.cascadeUsd) : c.cascadeRange ? `${formatUsd(c.cascadeRange.low)} to ${formatUsd(c.cascadeRange.high)}` : 'unknown';
  return [
    'llm.cascade (sync requests)                    cost',
    `${`  cascade (${small} first, then ${large})`.padEnd(46)} ${cascadeCost}`,
    `${`  large-only (${large})`.padEnd(46)} ${formatUsd(c.largeOnlyUsd)}`,
    `${`  small-only (${small})`.padEnd(46)} ${formatUsd(c.smallOnlyUsd)}`,
    `  ${c.note}.`,
  ];
}
