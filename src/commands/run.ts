import { StatusValidatorError, redact } from '../errors.js';
import { runPortfolio, runValidation, type RunOptions, type RunSummary } from '../pipeline/index.js';
import { ProgressView, renderFatal, renderPortfolio, renderPortfolioFatal, renderSummary, portfolioTotal, type TargetLine } from '../report/index.js';
import { exitCodeOf, exitCodeOfTarget, worstExit } from './exit.js';
import type { Secrets } from '../config/index.js';
import { loadTargets, logLine, systemClock, type CommandIO } from './context.js';
import { announce, announceFailure, announcerFor } from './announce.js';

export interface RunFlags {
  config: string;
  target?: string;
  dryRun?: boolean;
  force?: boolean;
  limit?: number;
  json?: boolean;
  recheckOlderThan?: number;
}

/**
 * `run`: one validation pass over the config's targets (or the one --target names), its
 * summary on stdout, its exit code returned. A file without `targets:` is reported as
 * it always was; a portfolio gets a line per target, a total, and the worst exit code.
 */
export async function runCommand(flags: RunFlags, io: CommandIO, trigger = 'cli'): Promise<number> {
  const { targets, listed, secrets, warnings } = loadTargets(flags.config, io, flags.target);
  const announcer = announcerFor(flags.config, targets, secrets, io.env);
  if (io.logFormat === 'json') for (const warning of warnings) logLine(io, `warning: ${warning}`);
  else if (!flags.json) for (const warning of warnings) io.stderr.write(`warning: ${warning}\n`);
  const options: RunOptions = {
    dryRun: flags.dryRun ?? false,
    force: flags.force ?? false,
    limit: flags.limit,
    recheckOlderThanMs: flags.recheckOlderThan,
    trigger,
    warnings,
    ...(io.clock?.every ? { every: io.clock.every } : {}),
    ...(io.stop ? { stop: io.stop } : {}),
    ...(io.abort ? { abort: io.abort } : {}),
  };
  const [only] = targets;
  // A bar per target on a terminal, timestamped lines in a log; taken down before the summary.
  const progress = new ProgressView(io.logFormat === 'json' ? { write: () => true } : io.stderr, { clock: () => (io.clock ?? systemClock).now().getTime() });
  if (!listed && only) {
    const summary = await runValidation(only, secrets, { ...options, onProgress: progress.listener() })
      .finally(() => progress.stop())
      .catch(async (error: unknown) => {
        // No run to report (its lock held, its cache unreadable): `on: failed` still hears of it.
        if (error instanceof StatusValidatorError && !options.dryRun) await announceFailure(announcer, only, error, io, trigger);
        throw error;
      });
    // After the writes (invariant 12): notifications within 15 s; a failed one is a warning of this summary.
    await announce(announcer, [{ summary, locked: false }], io, { trigger, dryRun: options.dryRun ?? false });
    return reportOne(summary, flags, io, secrets);
  }
  const run = await runPortfolio(targets, secrets, { ...options, each: (config) => ({ onProgress: progress.listener(config.target.name) }) }).finally(() => progress.stop());
  await announce(announcer, run.targets, io, { trigger, dryRun: options.dryRun ?? false });
  const lines: TargetLine[] = run.targets.map((t) => ({ ...t, exitCode: exitCodeOfTarget(t) }));
  const exitCode = worstExit(lines.map((l) => l.exitCode));
  const text = flags.json
    ? JSON.stringify({ group: run.group, exitCode, total: portfolioTotal(lines), targets: lines.map((l) => ({ ...l.summary, locked: l.locked, exitCode: l.exitCode })) }, null, 2)
    : renderPortfolio(lines, exitCode);
  io.stdout.write(`${redact(text, secrets.all)}\n`);
  const fatal = renderPortfolioFatal(lines);
  if (fatal) writeFatal(io, redact(fatal, secrets.all));
  return exitCode;
}

function reportOne(summary: RunSummary, flags: RunFlags, io: CommandIO, secrets: Secrets): number {
  const text = flags.json ? JSON.stringify(summary, null, 2) : renderSummary(summary);
  io.stdout.write(`${redact(text, secrets.all)}\n`);
  const fatal = renderFatal(summary);
  if (fatal) writeFatal(io, redact(fatal, secrets.all));
  return exitCodeOf(summary);
}

/** A run's fatal text on stderr: as it always was, or one json log line (--log-format json). */
function writeFatal(io: CommandIO, text: string): void {
  if (io.logFormat === 'json') logLine(io, `Error: ${text}`);
  else io.stderr.write(`${text}\n`);
}
