import { sampleRows } from '../test/support/sample-data.js';
import { benchEnv, type Figure } from './lib.js';

/**
 * Latency-bound runs: every answer takes the model's latency, so the ideal wall time
 * is ceil(N / workers) × mean latency. Measured through the CLI, reads and writes
 * included (under the default Sheets quotas).
 */
export async function latencyBound(name: string, rows: number, workers: number, latency: { mean: number; jitter: number }, target?: number): Promise<Figure[]> {
  const env = await benchEnv({ rows: sampleRows(rows), llm: { latencyMs: latency }, config: { llm: { max_workers: workers } } });
  try {
    const started = performance.now();
    const { code, summary } = await env.run();
    const wall = (performance.now() - started) / 1000;
    if (code !== 0) throw new Error(`${name}: run exited ${code}`);
    const ideal = (Math.ceil(rows / workers) * latency.mean) / 1000;
    const writes = (summary.writes as { calls: number }).calls;
    return [
      { name: `${name} wall time`, value: wall, unit: 's', ideal, ...(target ? { target } : {}), note: `${rows} rows, ${workers} workers, ${latency.mean}±${latency.jitter} ms; peak in flight ${env.llm.peakInFlight}; ${writes} write calls` },
    ];
  } finally {
    await env.close();
  }
}
