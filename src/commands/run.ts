import { redact } from '../errors.js';
import { runValidation, type RunSummary } from '../pipeline/index.js';
import { progressPrinter, renderFatal, renderSummary } from '../report/index.js';
import { exitCodeOf } from '../cli/exit.js';
import { load, type CommandIO } from './context.js';

export interface RunFlags {
  config: string;
  dryRun?: boolean;
  force?: boolean;
  limit?: number;
  json?: boolean;
  recheckOlderThan?: number;
}

/** `run`: one validation pass, its summary on stdout, its exit code returned. */
export async function runCommand(flags: RunFlags, io: CommandIO, trigger = 'cli'): Promise<number> {
  const { config, secrets, warnings } = load(flags.config, io);
  if (!flags.json) for (const warning of warnings) io.stderr.write(`warning: ${warning}\n`);
  const summary: RunSummary = await runValidation(config, secrets, {
    dryRun: flags.dryRun ?? false,
    force: flags.force ?? false,
    limit: flags.limit,
    recheckOlderThanMs: flags.recheckOlderThan,
    trigger,
    warnings,
    onProgress: progressPrinter(io.stderr),
    ...(io.clock?.every ? { every: io.clock.every } : {}),
    ...(io.stop ? { stop: io.stop } : {}),
    ...(io.abort ? { abort: io.abort } : {}),
  });
  const text = flags.json ? JSON.stringify(summary, null, 2) : renderSummary(summary);
  io.stdout.write(`${redact(text, secrets.all)}\n`);
  const fatal = renderFatal(summary);
  if (fatal) io.stderr.write(`${redact(fatal, secrets.all)}\n`);
  return exitCodeOf(summary);
}
