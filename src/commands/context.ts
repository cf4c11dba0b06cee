import { loadConfig, loadSecrets, type Config, type Secrets } from '../config/index.js';
import type { ProgressStream } from '../report/index.js';

/** What every command gets from the CLI: its streams, environment and stop signals. */
export interface CommandIO {
  stdout: ProgressStream;
  stderr: ProgressStream;
  env: NodeJS.ProcessEnv;
  /** Aborted on the first SIGINT/SIGTERM: stop new work, flush, exit 130. */
  stop?: AbortSignal;
  /** Aborted on the second signal or the deadline: cancel calls in flight. */
  abort?: AbortSignal;
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
