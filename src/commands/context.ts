import { loadConfig, loadSecrets, type Config, type Secrets } from '../config/index.js';
import type { ProgressStream } from '../report/index.js';
import { sleep } from '../retry/index.js';

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
}

/** A log line for long-running commands: timestamped, on stderr. */
export function logLine(io: CommandIO, text: string): void {
  io.stderr.write(`${(io.clock ?? systemClock).now().toISOString()} ${text}\n`);
}

export interface Loaded {
  config: Config;
  secrets: Secrets;
  warnings: string[];
}

/** Loads the config and the secrets it names; every problem at once, as a ConfigError. */
export function load(configFile: string, io: CommandIO): Loaded {
  const config = loadConfig(configFile, io.env);
  const { secrets, warnings } = loadSecrets(config, io.env);
  return { config, secrets, warnings };
}
