import { Metrics, startMetricsServer } from '../metrics/index.js';
import type { Config } from '../config/index.js';
import type { RunOptions } from '../pipeline/index.js';
import { UsageError } from '../errors.js';
import { logLine, type CommandIO } from './context.js';

/** A target's run options that feed the metrics from its events as they happen (none without metrics). */
export function metricsEvents(metrics: Metrics | undefined, config: Config): Pick<RunOptions, 'onEvent'> {
  return metrics ? { onEvent: metrics.listen(config.target.name) } : {};
}

/**
 * `--metrics-port N` of watch and schedule: the process's metrics and the server that
 * shows them at GET /metrics. Without the flag nothing listens (metrics are still fed, unread).
 */
export async function startObserving(flags: { metricsPort?: number | undefined; metricsHost?: string | undefined }, io: CommandIO): Promise<{ metrics: Metrics; close: () => Promise<void> }> {
  const metrics = new Metrics();
  if (flags.metricsPort === undefined) return { metrics, close: () => Promise.resolve() };
  const host = flags.metricsHost ?? '127.0.0.1';
  const server = await startMetricsServer(metrics, flags.metricsPort, host).catch((error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new UsageError(`--metrics-port ${flags.metricsPort}: cannot listen on ${host}:${flags.metricsPort} (${code})`, { hint: 'Choose a free port (another process may hold this one), or leave --metrics-port out.' });
  });
  logLine(io, `metrics at ${server.url} (Prometheus text format)`);
  return { metrics, close: server.close };
}
