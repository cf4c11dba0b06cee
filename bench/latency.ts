import { API_KEY } from '../test/support/bed.js';
import { sampleRows } from '../test/support/sample-data.js';
import { runBuiltCli } from './built-cli.js';
import { benchEnv, type Figure } from './lib.js';

interface Latency {
  mean: number;
  jitter: number;
}

const idealOf = (rows: number, workers: number, latency: Latency) => (Math.ceil(rows / workers) * latency.mean) / 1000;

/**
 * Latency-bound runs: every answer takes the model's latency, so the ideal wall time
 * is ceil(N / workers) × mean latency. Measured through the CLI, reads and writes
 * included (under the default Sheets quotas).
 */
export async function latencyBound(name: string, rows: number, workers: number, latency: Latency, target?: number): Promise<Figure[]> {
  const env = await benchEnv({ rows: sampleRows(rows), llm: { latencyMs: latency }, config: { llm: { max_workers: workers } } });
  try {
    const started = performance.now();
    const { code, summary } = await env.run();
    const wall = (performance.now() - started) / 1000;
    if (code !== 0) throw new Error(`${name}: run exited ${code}`);
    const writes = (summary.writes as { calls: number }).calls;
    return [
      { name: `${name} wall time`, value: wall, unit: 's', ideal: idealOf(rows, workers, latency), ...(target ? { target } : {}), note: `${rows} rows, ${workers} workers, ${latency.mean}±${latency.jitter} ms; peak in flight ${env.llm.peakInFlight}; ${writes} write calls` },
    ];
  } finally {
    await env.close();
  }
}

/**
 * The same run as a user runs it: the compiled CLI in a process of its own, so node
 * starting, the modules loading, the config, the store, the writes, the look of the
 * columns and the exit all count. The median of `runs` cold runs (each on fresh
 * emulators and a fresh cache): the machine's load moves a single run by tenths of a second.
 */
export async function latencyBoundProcess(name: string, rows: number, workers: number, latency: Latency, target: number, runs = Number(process.env.B1_RUNS ?? 3)): Promise<Figure[]> {
  const walls: number[] = [];
  let note = '';
  for (let i = 0; i < runs; i++) {
    const env = await benchEnv({ rows: sampleRows(rows), llm: { latencyMs: latency }, config: { llm: { max_workers: workers } } });
    try {
      const report = await runBuiltCli(env.configPath, { TEST_OPENAI_KEY: API_KEY });
      if (report.code !== 0) throw new Error(`${name}: the CLI exited ${report.code}`);
      walls.push(report.wallMs / 1000);
      note = `peak in flight ${env.llm.peakInFlight}; ${(report.summary.writes as { calls: number }).calls} write calls; peak RSS ${(report.maxRssBytes / 2 ** 20).toFixed(0)} MiB`;
    } finally {
      await env.close();
    }
  }
  const sorted = [...walls].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? NaN;
  return [
    {
      name: `${name} wall time, whole process`,
      value: median,
      unit: 's',
      ideal: idealOf(rows, workers, latency),
      target,
      note: `median of ${runs} (${walls.map((w) => w.toFixed(2)).join(', ')} s); the built CLI in its own process; ${rows} rows, ${workers} workers, ${latency.mean}±${latency.jitter} ms; ${note}`,
    },
  ];
}
