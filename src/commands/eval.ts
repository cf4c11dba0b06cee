import { openStore, type Store } from '../cache/index.js';
import type { Config, Secrets } from '../config/index.js';
import { StatusValidatorError, redact } from '../errors.js';
import { EXIT } from './exit.js';
import { measureAgreement, overallAgreement, type ModelAgreement, renderAgreement, renderPortfolioAgreement, type TargetAgreement } from '../eval/index.js';
import { cascadeModelName, keyerOf, layoutConfigOf, modelKeyer, sheetsClientFor, snapshotOf } from '../pipeline/index.js';
import { parseOverride } from '../pipeline/review.js';
import { mapHeaders, readEntries, readTabChunks, type Entry, type Layout } from '../sheets/index.js';
import { loadTargets, type CommandIO } from './context.js';

const NO_OVERRIDE = 'eval compares the model with reviewers, and no review.override_column is configured';

/**
 * `eval`: how often the model agrees with the reviewers, so a team can tell whether
 * its rules and model are good enough: per target (a confusion matrix each) and overall.
 * One read per target; no LLM call. A target that cannot be evaluated is named and the
 * others still are; the exit code is the worst. A file without `targets:` prints as before.
 */
export async function evalCommand(flags: { config: string; json?: boolean; target?: string }, io: CommandIO): Promise<number> {
  const { targets, listed, secrets } = loadTargets(flags.config, io, flags.target);
  const first = targets[0] as Config;
  if (!listed) {
    if (!first.review.override_column) {
      io.stderr.write(`Error: ${NO_OVERRIDE}.\nFix: add review: { override_column: "Reviewer verdict" } to the config and let reviewers fill it.\n`);
      return 2;
    }
    const store = await openStore(first.cache);
    try {
      const agreement = await measure(first, secrets, store, io);
      io.stdout.write(flags.json ? `${JSON.stringify(agreement, null, 2)}\n` : renderAgreement(agreement));
      return 0;
    } finally {
      await store.close();
    }
  }
  const store = await openStore(first.cache);
  const results: TargetAgreement[] = [];
  try {
    for (const config of targets) results.push(await measureOrFailure(config, secrets, store, io));
  } finally {
    await store.close();
  }
  // A target left out for want of an override column is said so, not a failure, unless no target is left.
  const exitCode = results.some((r) => 'error' in r) ? EXIT.fatal : results.every((r) => 'skipped' in r) ? EXIT.usage : EXIT.ok;
  const text = flags.json ? JSON.stringify({ exitCode, targets: results, overall: overallAgreement(results) }, null, 2) : renderPortfolioAgreement(results);
  io.stdout.write(`${redact(text, secrets.all)}${flags.json ? '\n' : ''}`);
  for (const r of results) if ('error' in r) io.stderr.write(`${redact(`Error: [${r.target}] ${r.error.message}${r.error.hint ? `\nFix: ${r.error.hint}` : ''}`, secrets.all)}\n`);
  if (results.every((r) => 'skipped' in r)) io.stderr.write(`Error: ${NO_OVERRIDE} for any target.\nFix: add review: { override_column: "Reviewer verdict" } at the top level or to a target.\n`);
  return exitCode;
}

async function measureOrFailure(config: Config, secrets: Secrets, store: Store, io: CommandIO): Promise<TargetAgreement> {
  const where = { target: config.target.name, spreadsheetId: config.sheets.spreadsheet_id, sheet: config.sheets.sheet };
  if (!config.review.override_column) return { ...where, skipped: `${NO_OVERRIDE} for this target (add review.override_column to it or at the top level)` };
  try {
    return { ...where, ...(await measure(config, secrets, store, io)) };
  } catch (error) {
    if (!(error instanceof StatusValidatorError)) throw error;
    return { ...where, error: { message: redact(error.message, secrets.all), ...(error.hint ? { hint: error.hint } : {}) } };
  }
}

async function measure(config: Config, secrets: Secrets, store: Store, io: CommandIO) {
  // In chunks, as the run reads (issue 25): a tab past the 180 s processing deadline in one read is read in several.
  const client = sheetsClientFor(config, secrets, io.abort);
  let layout: Layout | undefined;
  const entries: Entry[] = [];
  for await (const read of readTabChunks(client, config.sheets.sheet, config.sheets.header_row)) {
    layout ??= mapHeaders(read.values[config.sheets.header_row - 1] ?? [], layoutConfigOf(config));
    for (const entry of readEntries(read.values, layout, read.firstRow).entries) entries.push(entry);
  }
  // Only reviewed rows are compared: their model verdicts are read in one lookup.
  const reviewed = entries.filter((entry) => parseOverride(entry.review.override));
  const { keyOf, snapshot } = await snapshotOf(store, reviewed, keyerOf(config));
  const agreement = measureAgreement(entries, keyOf, (key) => snapshot.verdicts.get(key));
  const cascade = config.llm.cascade;
  if (!cascade) return agreement;
  // llm.cascade: each model's own answers are kept under its own key; the cascade's verdict above.
  const byModel: ModelAgreement[] = [];
  for (const model of [cascade.small, cascade.large]) {
    const own = await snapshotOf(store, reviewed, (entry) => modelKeyer(config, model)(entry.inputs));
    const { compared, agreed, rate } = measureAgreement(reviewed, own.keyOf, (key) => own.snapshot.verdicts.get(key));
    byModel.push({ model, compared, agreed, rate });
  }
  byModel.push({ model: cascadeModelName(cascade), compared: agreement.compared, agreed: agreement.agreed, rate: agreement.rate });
  return { ...agreement, byModel };
}
