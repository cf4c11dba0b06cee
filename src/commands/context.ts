import { loadPortfolio, loadSecrets, selectTargets, type Config, type Secrets } from '../config/index.js';
import { ConfigError, UsageError } from '../errors.js';
import { embeddingProblem, serviceTierProblems } from '../llm/index.js';
import type { ProgressStream } from '../report/index.js';
import { sleep } from '../retry/index.js';
import { formatLog, type LogFormat } from '../log/index.js';

/** Time, injectable so that long-running commands are tested without waiting. */
export interface Clock {
  now(): Date;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Repeats a tick (the run lock's heartbeat) until the returned function is called; real timers when absent. */
  every?: (ms: number, tick: () => void) => () => void;
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms, signal) => sleep(ms, signal),
};

/** What every command gets from the CLI: its streams, environment and stop signals. */
export interface CommandIO {
  stdout: ProgressStream;
  stderr: ProgressStream;
  env: NodeJS.ProcessEnv;
  /** Aborted on the first SIGINT/SIGTERM: stop new work, flush, exit 130. */
  stop?: AbortSignal;
  /** Aborted on the second signal or the deadline: cancel calls in flight. */
  abort?: AbortSignal;
  clock?: Clock;
  /** --log-format: human lines (the default) or one JSON object per line (issue 22). */
  logFormat?: LogFormat;
}

/** A log line for long-running commands: timestamped, on stderr. */
export function logLine(io: CommandIO, text: string): void {
  io.stderr.write(formatLog(io.logFormat ?? 'human', (io.clock ?? systemClock).now(), text));
}

export interface Loaded {
  config: Config;
  secrets: Secrets;
  warnings: string[];
}

export interface LoadedTargets {
  /** The targets the command works on: all, or the one --target names. */
  targets: Config[];
  /** Whether the file lists targets (else its top level is its one target, reported as before). */
  listed: boolean;
  secrets: Secrets;
  warnings: string[];
}

/** Loads the config and the secrets it names; every problem at once, as a ConfigError. */
export function loadTargets(configFile: string, io: CommandIO, target?: string): LoadedTargets {
  const portfolio = loadPortfolio(configFile, io.env);
  const targets = selectTargets(portfolio, target);
  const first = targets[0] as Config;
  refuseSemanticWithoutEmbeddings(configFile, targets);
  const tiers = checkServiceTiers(configFile, first);
  // Credentials and providers are top-level: every target has the same.
  const { secrets, warnings } = loadSecrets(first, io.env);
  return { targets, listed: first.target.index !== undefined, secrets, warnings: [...tiers, ...warnings] };
}

/**
 * cache.semantic with a first provider that has no embeddings (Anthropic's layer, Groq,
 * OpenRouter), or no embedding model to name: a config problem, before anything is read or
 * sent (check-config and every command, exit 2).
 */
function refuseSemanticWithoutEmbeddings(configFile: string, targets: readonly Config[]): void {
  const problems = targets.flatMap((target) => {
    const problem = embeddingProblem(target);
    return problem ? [{ ...problem, path: target.target.index === undefined ? problem.path : `targets[${target.target.index}].${problem.path}` }] : [];
  });
  const [first] = problems;
  if (!first) return;
  throw new ConfigError(configFile, problems.filter((p, i) => problems.findIndex((o) => o.message === p.message) === i), { hint: first.hint });
}

/**
 * llm.providers[].service_tier on a kind that does not take it: a config problem (exit 2)
 * before anything is sent; on a generic endpoint a warning (src/llm/kinds/service-tier.ts).
 * Providers are top-level: the first target's are every target's.
 */
function checkServiceTiers(configFile: string, config: Config): string[] {
  const { problems, warnings } = serviceTierProblems(config.llm.providers);
  const [first] = problems;
  if (first) throw new ConfigError(configFile, problems, { hint: first.hint });
  return warnings;
}

/** For commands that work on one target: the file's only one, or the one --target names. */
export function load(configFile: string, io: CommandIO, target?: string): Loaded {
  const { targets, secrets, warnings } = loadTargets(configFile, io, target);
  const [config, ...more] = targets;
  if (!config || more.length > 0) {
    throw new UsageError(`${configFile} lists ${targets.length} targets and this command works on one at a time`, {
      hint: `Pass --target NAME (one of: ${targets.map((t) => t.target.name).join(', ')}).`,
    });
  }
  return { config, secrets, warnings };
}
