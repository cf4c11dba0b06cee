import { Command, CommanderError, InvalidArgumentError } from 'commander';
import type { CommandIO } from '../commands/context.js';
import type { RunFlags } from '../commands/run.js';
import type { CacheMigrateFlags } from '../commands/cache-migrate.js';
import type { ScheduleFlags } from '../commands/schedule.js';
import type { ServeFlags } from '../commands/serve.js';
import type { WatchFlags } from '../commands/watch.js';
import { parseDuration } from '../llm/index.js';
import { cacheLocation, durationMs } from '../config/index.js';
import { ConfigError, LockedError, RemoteError, StatusValidatorError, UnsafeCacheError, UsageError, redact } from '../errors.js';
import { EXIT } from '../commands/exit.js';
import { plural } from '../plural.js';
import { LOG_FORMATS, formatLog, type LogFormat } from '../log/index.js';

// Each command's module is loaded when that command runs: a `run` does not load the HTTP
// server, the metrics registry, the cron parser or the Batch API (startup is part of every
// run's wall time: issue 25, bench B1).
const commands = {
  context: () => import('../commands/context.js'),
  run: () => import('../commands/run.js'),
  checkOnline: () => import('../commands/check-online.js'),
  batch: () => import('../commands/batch.js'),
  estimate: () => import('../commands/estimate.js'),
  eval: () => import('../commands/eval.js'),
  rules: () => import('../commands/rules.js'),
  runs: () => import('../commands/runs.js'),
  cacheMigrate: () => import('../commands/cache-migrate.js'),
  schedule: () => import('../commands/schedule.js'),
  serve: () => import('../commands/serve.js'),
  watch: () => import('../commands/watch.js'),
};

export type CliIO = CommandIO;

/** Parses argv (without node and script) and runs a command. Returns the exit code; never exits. */
export async function main(argv: readonly string[], io: CliIO): Promise<number> {
  let exitCode: number = EXIT.ok;
  // The chosen --log-format, once a command that takes it starts: its failure is then one JSON line too.
  let errorFormat: LogFormat = 'human';
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
    .option('-t, --target <name>', 'only this target of the config (default: all of them)')
    .option('--dry-run', 'show what would happen: no writes to the sheet or the cache (model calls are made and paid, but not kept)')
    .option('--force', 'ignore the cache and ask the model about every row again')
    .option('--limit <n>', 'ask the model about at most N rows this run; the rest wait for the next run', positiveInt)
    .option('--recheck-older-than <age>', 'also ask again about rows checked longer ago than this (7d, 12h, 30m)', duration)
    .option('--json', 'print the run summary as JSON on stdout (progress still goes to stderr)')
    .option('--mode <mode>', 'sync (answers now) or batch (Batch API: half price, waits for the job)', mode, 'sync')
    .option('--every <interval>', 'with --mode batch: time between polls of the job', interval, 30_000)
    .option('--log-format <format>', LOG_FORMAT_HELP, logFormat, 'human')
    .action(async (flags: RunFlags & { mode: string; every: number; logFormat: LogFormat }) => {
      errorFormat = flags.logFormat;
      const logged = { ...io, logFormat: flags.logFormat };
      exitCode = flags.mode === 'batch' ? await (await commands.batch()).batchRun(flags, logged) : await (await commands.run()).runCommand(flags, logged);
    });

  program
    .command('check-config')
    .description('validate the config file and the credentials it points to, without contacting anything (--online: also the sheet, its sharing and the providers)')
    .requiredOption('-c, --config <file>', 'the YAML config file')
    .option('-t, --target <name>', 'only this target of the config')
    .option('--online', "also contact them: the spreadsheet and its tabs, every configured header, write access (changing nothing a person sees), each provider's key and model")
    .addHelpText('after', ONLINE_HELP)
    .action(async (flags: { config: string; target?: string; online?: boolean }) => {
      const loaded = (await commands.context()).loadTargets(flags.config, io, flags.target);
      // Offline checks that need no network run first, for --online too.
      (await commands.serve()).checkServeCaps(flags.config, loaded.targets);
      if (flags.online) {
        exitCode = await (await commands.checkOnline()).checkOnlineCommand(flags.config, loaded, io);
        return;
      }
      const { targets, listed, warnings } = loaded;
      for (const warning of warnings) io.stderr.write(`warning: ${warning}\n`);
      const [first] = targets;
      // A shared database is worth naming (never its password); the default file is not.
      const store = first?.cache.url === undefined ? '' : `, cache ${cacheLocation(first.cache)}`;
      if (!listed && first) {
        io.stdout.write(`${flags.config}: OK (${plural(first.llm.providers.length, 'provider')}, tab "${first.sheets.sheet}"${store})\n`);
        return;
      }
      io.stdout.write(`${flags.config}: OK (${plural(first?.llm.providers.length ?? 0, 'provider')}, ${plural(targets.length, 'target')}${store})\n`);
      for (const t of targets) io.stdout.write(`  ${t.target.name}: tab "${t.sheets.sheet}" in ${t.sheets.spreadsheet_id}\n`);
    });

  program
    .command('runs')
    .description('list the recent runs recorded in the cache (newest first)')
    .requiredOption('-c, --config <file>', 'the YAML config file')
    .option('-n, --limit <n>', 'how many runs', positiveInt, 20)
    .option('-t, --target <name>', "only this target's runs")
    .option('--json', 'print them as JSON')
    .action(async (flags: { config: string; limit: number; json?: boolean; target?: string }) => {
      exitCode = await (await commands.runs()).runsCommand(flags, io);
    });

  program
    .command('cache')
    .description('the cache itself')
    .command('migrate')
    .description("copy an old SQLite cache (verdicts, reviewers' verdicts, runs, batch jobs, learned limits) into the PostgreSQL database of cache.url; running it twice changes nothing")
    .requiredOption('-c, --config <file>', 'the YAML config file (its cache.url is where the rows go)')
    .requiredOption('--from <file>', 'the old SQLite cache file (only read)')
    .option('--json', 'print the per-table summary as JSON')
    .action(async (flags: CacheMigrateFlags) => {
      exitCode = await (await commands.cacheMigrate()).cacheMigrateCommand(flags, io);
    });

  program
    .command('watch')
    .description('poll the sheet and run only when a row changed or a recheck box was ticked (one read call per quiet poll)')
    .requiredOption('-c, --config <file>', 'the YAML config file')
    .option('-t, --target <name>', 'only this target of the config (default: all of them)')
    .option('--every <interval>', 'time between polls (30s, 5m, 1h)', interval, 60_000)
    .option('--polls <n>', 'stop after N polls', positiveInt)
    .option('--metrics-port <port>', 'serve Prometheus metrics at GET /metrics on this port', port)
    .option('--metrics-host <address>', 'address the metrics port binds', '127.0.0.1')
    .option('--log-format <format>', LOG_FORMAT_HELP, logFormat, 'human')
    .action(async (flags: WatchFlags & { logFormat: LogFormat }) => {
      errorFormat = flags.logFormat;
      exitCode = await (await commands.watch()).watchCommand(flags, { ...io, logFormat: flags.logFormat });
    });

  program
    .command('schedule')
    .description('stay running and validate at each time of a cron schedule')
    .requiredOption('-c, --config <file>', 'the YAML config file')
    .option('-t, --target <name>', 'only this target of the config (default: all of them)')
    .requiredOption('--cron <expression>', 'five-field cron expression, e.g. "0 7 * * 1-5" (07:00 on weekdays)')
    .option('--tz <zone>', 'IANA time zone of the expression, e.g. Europe/Moscow (default: the machine\'s)')
    .option('--runs <n>', 'stop after N runs', positiveInt)
    .option('--metrics-port <port>', 'serve Prometheus metrics at GET /metrics on this port', port)
    .option('--metrics-host <address>', 'address the metrics port binds', '127.0.0.1')
    .option('--log-format <format>', LOG_FORMAT_HELP, logFormat, 'human')
    .action(async (flags: ScheduleFlags & { logFormat: LogFormat }) => {
      errorFormat = flags.logFormat;
      exitCode = await (await commands.schedule()).scheduleCommand(flags, { ...io, logFormat: flags.logFormat });
    });

  program
    .command('serve')
    .description('an HTTP trigger for a "Validate now" menu in the sheet: POST /runs, GET /runs/:id')
    .requiredOption('-c, --config <file>', 'the YAML config file')
    .option('-t, --target <name>', 'only this target of the config (default: all of them)')
    .option('--port <port>', 'port to listen on', port, 8080)
    .option('--host <address>', 'address to bind (127.0.0.1 keeps it local; put anything else behind HTTPS)', '127.0.0.1')
    .option('--token-env <name>', 'environment variable holding the bearer token', 'STATUS_VALIDATOR_TOKEN')
    .option('--log-format <format>', LOG_FORMAT_HELP, logFormat, 'human')
    .action(async (flags: ServeFlags & { logFormat: LogFormat }) => {
      errorFormat = flags.logFormat;
      exitCode = await (await commands.serve()).serveCommand(flags, { ...io, logFormat: flags.logFormat });
    });

  const batch = program.command('batch').description('the Batch API: half price, results within 24 h; jobs are recorded and survive restarts');
  batch
    .command('submit')
    .description('send the rows that need an answer as batch jobs')
    .requiredOption('-c, --config <file>', 'the YAML config file')
    .option('--force', 'every row, not only cache misses')
    .option('-t, --target <name>', 'only this target of the config (default: all of them)')
    .action(async (flags: { config: string; force?: boolean; target?: string }) => {
      exitCode = await (await commands.batch()).batchSubmit(flags, io);
    });
  batch
    .command('status [ids...]')
    .description("how the jobs are doing (default: the targets' jobs not yet applied)")
    .requiredOption('-c, --config <file>', 'the YAML config file')
    .option('-t, --target <name>', 'only this target of the config (default: all of them)')
    .action(async (ids: string[], flags: { config: string; target?: string }) => {
      exitCode = await (await commands.batch()).batchStatus(flags, ids, io);
    });
  batch
    .command('wait [ids...]')
    .description('poll until the jobs finish')
    .requiredOption('-c, --config <file>', 'the YAML config file')
    .option('--every <interval>', 'time between polls', interval, 30_000)
    .option('-t, --target <name>', 'only this target of the config (default: all of them)')
    .action(async (ids: string[], flags: { config: string; every: number; target?: string }) => {
      exitCode = await (await commands.batch()).batchWait(flags, ids, io);
    });
  batch
    .command('results [ids...]')
    .description("save the finished jobs' answers in the cache and write each to its own target's tab")
    .requiredOption('-c, --config <file>', 'the YAML config file')
    .option('-t, --target <name>', 'only this target of the config (default: all of them)')
    .option('--json', 'print the write summary as JSON')
    .action(async (ids: string[], flags: { config: string; json?: boolean; target?: string }) => {
      exitCode = await (await commands.batch()).batchResults(flags, ids, io);
    });
  batch
    .command('cancel <id>')
    .description('cancel a job (answers already made can still be applied)')
    .requiredOption('-c, --config <file>', 'the YAML config file')
    .action(async (id: string, flags: { config: string }) => {
      exitCode = await (await commands.batch()).batchCancel(flags, id, io);
    });
  batch
    .command('list')
    .description('the recorded jobs, newest first')
    .requiredOption('-c, --config <file>', 'the YAML config file')
    .option('-t, --target <name>', "only this target's jobs")
    .option('--json', 'print them as JSON')
    .action(async (flags: { config: string; json?: boolean; target?: string }) => {
      exitCode = await (await commands.batch()).batchList(flags, io);
    });

  program
    .command('estimate')
    .description('count what a run would send (calls, tokens, dollars per mode) before anything is spent')
    .requiredOption('-c, --config <file>', 'the YAML config file')
    .option('--force', 'estimate for every row, as run --force would ask')
    .option('-t, --target <name>', 'only this target of the config (default: all of them)')
    .option('--json', 'print the estimate as JSON')
    .action(async (flags: { config: string; json?: boolean; force?: boolean; target?: string }) => {
      exitCode = await (await commands.estimate()).estimateCommand(flags, io);
    });

  program
    .command('eval')
    .description("measure how often the model agrees with the reviewers' verdicts (confusion matrix, differing rows), per target and overall")
    .requiredOption('-c, --config <file>', 'the YAML config file')
    .option('-t, --target <name>', 'only this target of the config (default: all of them)')
    .option('--json', 'print the result as JSON')
    .action(async (flags: { config: string; json?: boolean; target?: string }) => {
      exitCode = await (await commands.eval()).evalCommand(flags, io);
    });

  program
    .command('rules')
    .description('share the rulebook with the people in the sheet')
    .command('publish')
    .description('write the rules, the allowed statuses and the model to a tab of their own')
    .requiredOption('-c, --config <file>', 'the YAML config file')
    .option('--tab <name>', 'the tab to write (replaced each time)', 'Rules')
    .option('-t, --target <name>', 'only this target of the config (default: all of them)')
    .action(async (flags: { config: string; tab: string; target?: string }) => {
      exitCode = await (await commands.rules()).rulesPublishCommand(flags, io);
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    return reportError(error, io, errorFormat);
  }
}

/** The one place that decides what a user sees of a failure. */
/** The exit code of a command's failure, from its class alone (DESIGN.md, Contracts: exit codes). */
export function exitCodeOfError(error: StatusValidatorError): number {
  if (error instanceof ConfigError || error instanceof UsageError || error instanceof UnsafeCacheError) return EXIT.usage;
  if (error instanceof LockedError) return EXIT.locked;
  return EXIT.fatal;
}

function reportError(error: unknown, io: CliIO, format: LogFormat = 'human'): number {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return EXIT.ok;
    return EXIT.usage;
  }
  if (format === 'json') return reportErrorJson(error, io);
  if (error instanceof StatusValidatorError) {
    io.stderr.write(`Error: ${redact(error.message)}\n`);
    if (error instanceof RemoteError && (error.status !== undefined || error.requestId)) {
      io.stderr.write(`  (status ${error.status ?? 'none'}${error.requestId ? `, request id ${error.requestId}` : ''})\n`);
    }
    if (error.hint) io.stderr.write(`Fix: ${error.hint}\n`);
    return exitCodeOfError(error);
  }
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  io.stderr.write(`Internal error (a bug in status-validator, please report it with this text):\n${redact(detail)}\n`);
  return EXIT.fatal;
}

/**
 * --log-format json: the failure as one JSON line at severity ERROR (a shipper alerts on it),
 * with its fix, exit code and request id as fields; the same words as the human lines.
 */
function reportErrorJson(error: unknown, io: CliIO): number {
  const now = io.clock?.now() ?? new Date();
  if (error instanceof StatusValidatorError) {
    const code = exitCodeOfError(error);
    const remote = error instanceof RemoteError ? { status: error.status ?? null, requestId: error.requestId ?? null } : {};
    io.stderr.write(formatLog('json', now, `Error: ${redact(error.message)}`, 'error', { fix: error.hint === undefined ? undefined : redact(error.hint), exitCode: code, kind: error.name, ...remote }, 'ERROR'));
    return code;
  }
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  io.stderr.write(formatLog('json', now, `Internal error (a bug in status-validator, please report it with this text): ${redact(detail)}`, 'error', { exitCode: EXIT.fatal, kind: 'internal' }, 'ERROR'));
  return EXIT.fatal;
}

function duration(value: string): number {
  try {
    return durationMs(value);
  } catch {
    throw new InvalidArgumentError(`expected an age like 7d, 12h or 30m, got "${value}"`);
  }
}

function interval(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms < 1000) throw new InvalidArgumentError(`expected an interval of at least 1s, like 30s, 5m or 1h, got "${value}"`);
  return ms;
}

function mode(value: string): string {
  if (value !== 'sync' && value !== 'batch') throw new InvalidArgumentError(`expected sync or batch, got "${value}"`);
  return value;
}

function port(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65_535) throw new InvalidArgumentError(`expected a port from 0 to 65535, got "${value}"`);
  return parsed;
}

const LOG_FORMAT_HELP = 'human (timestamped lines, the default) or json (one JSON object per line on stderr, for Cloud Logging and log shippers)';

function logFormat(value: string): LogFormat {
  const found = LOG_FORMATS.find((f) => f === value);
  if (!found) throw new InvalidArgumentError(`expected human or json, got "${value}"`);
  return found;
}

function positiveInt(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError(`expected a whole number ≥ 1, got "${value}"`);
  return parsed;
}

const VERSION = '0.1.0';

const ONLINE_HELP = `
With --online, exit codes: 0 everything checked and fine; 2 a problem to fix (config,
sharing, key, model); 1 something could not be checked (network down, a service failing).`;
