import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { loadConfig, loadSecrets } from '../config/index.js';
import { ConfigError, LockedError, RemoteError, StatusValidatorError, UsageError, redact } from '../errors.js';
import { runValidation, type RunSummary } from '../pipeline/index.js';
import { progressPrinter, renderFatal, renderSummary, type ProgressStream } from '../report/index.js';
import { EXIT, exitCodeOf } from './exit.js';

export interface CliIO {
  stdout: ProgressStream;
  stderr: ProgressStream;
  env: NodeJS.ProcessEnv;
  /** Aborted on the first SIGINT/SIGTERM: stop new work, flush, exit 130. */
  stop?: AbortSignal;
  /** Aborted on the second signal or the deadline: cancel calls in flight. */
  abort?: AbortSignal;
}

interface RunFlags {
  config: string;
  dryRun?: boolean;
  force?: boolean;
  limit?: number;
  json?: boolean;
}

/** Parses argv (without node and script) and runs a command. Returns the exit code; never exits. */
export async function main(argv: readonly string[], io: CliIO): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = new Command()
    .name('status-validator')
    .description('Checks project status rows in a Google Sheet with an LLM and writes the verdicts back.')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: (s) => void io.stdout.write(s), writeErr: (s) => void io.stderr.write(s) })
    .showHelpAfterError('(run status-validator --help for usage)');

  program
    .command('run')
    .description('validate the sheet once: read, ask the model about new or changed rows, write the verdicts')
    .requiredOption('-c, --config <file>', 'the YAML config file')
    .option('--dry-run', 'show what would happen: no writes to the sheet or the cache (model calls are made and paid, but not kept)')
    .option('--force', 'ignore the cache and ask the model about every row again')
    .option('--limit <n>', 'ask the model about at most N rows this run; the rest wait for the next run', positiveInt)
    .option('--json', 'print the run summary as JSON on stdout (progress still goes to stderr)')
    .action(async (flags: RunFlags) => {
      exitCode = await runCommand(flags, io);
    });

  program
    .command('check-config')
    .description('validate the config file and the credentials it points to, without contacting anything')
    .requiredOption('-c, --config <file>', 'the YAML config file')
    .action((flags: { config: string }) => {
      const config = loadConfig(flags.config, io.env);
      const { warnings } = loadSecrets(config, io.env);
      for (const warning of warnings) io.stderr.write(`warning: ${warning}\n`);
      io.stdout.write(`${flags.config}: OK (${config.llm.providers.length} provider(s), tab "${config.sheets.sheet}")\n`);
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    return reportError(error, io);
  }
}

async function runCommand(flags: RunFlags, io: CliIO): Promise<number> {
  const config = loadConfig(flags.config, io.env);
  const { secrets, warnings } = loadSecrets(config, io.env);
  if (!flags.json) for (const warning of warnings) io.stderr.write(`warning: ${warning}\n`);
  const summary: RunSummary = await runValidation(config, secrets, {
    dryRun: flags.dryRun ?? false,
    force: flags.force ?? false,
    limit: flags.limit,
    trigger: 'cli',
    warnings,
    onProgress: progressPrinter(io.stderr),
    ...(io.stop ? { stop: io.stop } : {}),
    ...(io.abort ? { abort: io.abort } : {}),
  });
  const text = flags.json ? JSON.stringify(summary, null, 2) : renderSummary(summary);
  io.stdout.write(`${redact(text, secrets.all)}\n`);
  const fatal = renderFatal(summary);
  if (fatal) io.stderr.write(`${redact(fatal, secrets.all)}\n`);
  return exitCodeOf(summary);
}

/** The one place that decides what a user sees of a failure. */
function reportError(error: unknown, io: CliIO): number {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return EXIT.ok;
    return EXIT.usage;
  }
  if (error instanceof StatusValidatorError) {
    io.stderr.write(`Error: ${redact(error.message)}\n`);
    if (error instanceof RemoteError && (error.status !== undefined || error.requestId)) {
      io.stderr.write(`  (status ${error.status ?? 'none'}${error.requestId ? `, request id ${error.requestId}` : ''})\n`);
    }
    if (error.hint) io.stderr.write(`Fix: ${error.hint}\n`);
    if (error instanceof ConfigError || error instanceof UsageError) return EXIT.usage;
    if (error instanceof LockedError) return EXIT.locked;
    return EXIT.fatal;
  }
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  io.stderr.write(`Internal error (a bug in status-validator, please report it with this text):\n${redact(detail)}\n`);
  return EXIT.fatal;
}

function positiveInt(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError(`expected a whole number ≥ 1, got "${value}"`);
  return parsed;
}

const VERSION = '0.1.0';
