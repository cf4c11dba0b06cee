import { sampleRows } from '../test/support/sample-data.js';
import { benchEnv, type Figure } from './lib.js';

const ROWS = 10_000;
const QUOTA = 60;
const WINDOW_MS = 60_000;

/**
 * B5: 10,000 fresh rows answered by a fast model (5 ms, 50 workers) while the Sheets
 * emulator enforces Google's default quotas (60 reads and 60 writes per minute,
 * answering 429 past them). Verdicts arrive far faster than one write call per second
 * can carry in batches of 10, so the writer must coalesce; the final flush must go out
 * as soon as the last answer is in.
 */
export async function writeEconomy(): Promise<Figure[]> {
  const env = await benchEnv({
    rows: sampleRows(ROWS),
    sheets: { readQuotaPerMinute: QUOTA, writeQuotaPerMinute: QUOTA },
    llm: { latencyMs: { mean: 5, jitter: 2 } },
    config: { llm: { max_workers: 50 } },
  });
  try {
    const started = performance.now();
    const cpu = process.cpuUsage();
    const { code, summary } = await env.run();
    const wall = (performance.now() - started) / 1000;
    const { user, system } = process.cpuUsage(cpu);
    const writes = summary.writes as { calls: number; rowsWritten: number; sheetRetries: number };
    if (code !== 0 || writes.rowsWritten !== ROWS) throw new Error(`B5: exit ${code}, ${writes.rowsWritten} of ${ROWS} rows written`);

    const calls = env.sheets.calls;
    const writeTimes = calls.filter((c) => c.kind === 'write').map((c) => c.at);
    const readTimes = calls.filter((c) => c.kind === 'read').map((c) => c.at);
    const refused = calls.filter((c) => c.status === 429).length;
    const answers = env.llm.requests.filter((r) => r.status === 200);
    const lastAnswer = Math.max(...answers.map((r) => r.endedAt ?? r.startedAt));
    const lastWrite = Math.max(...writeTimes);
    const span = (Math.max(...calls.map((c) => c.at)) - Math.min(...calls.map((c) => c.at))) / 1000;
    return [
      {
        name: 'B5 write calls in any 60 s window',
        value: peakInWindow(writeTimes, WINDOW_MS),
        unit: 'calls',
        limit: QUOTA,
        note: `${writeTimes.length} write calls (${writes.calls} of verdicts, ${(writes.rowsWritten / Math.max(1, writes.calls)).toFixed(0)} rows each on average) over ${span.toFixed(1)} s`,
      },
      { name: 'B5 read calls in any 60 s window', value: peakInWindow(readTimes, WINDOW_MS), unit: 'calls', limit: QUOTA, note: `${readTimes.length} read calls (1 tab read + 1 verify read per write)` },
      { name: 'B5 Sheets 429s', value: refused, unit: 'calls', limit: 0, note: `${writes.sheetRetries} Sheets retries` },
      {
        name: 'B5 last verdict lands after the last answer',
        value: (lastWrite - lastAnswer) / 1000,
        unit: 's',
        limit: 2,
        note: 'Sheets emulator: arrival of the last write call; OpenAI emulator: end of the last response',
      },
      {
        name: 'B5 wall time',
        value: wall,
        unit: 's',
        note: `CPU-bound, not model-bound (ceil(${ROWS} / 50) × 5 ms = 1 s of model time): ${((user + system) / 1000 / ROWS).toFixed(2)} ms of CPU per row for the bot and both emulators, which share one thread`,
      },
    ];
  } finally {
    await env.close();
  }
}

/** Most timestamps in any window (t − windowMs, t] — the emulator's own sliding window. */
export function peakInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let peak = 0;
  let first = 0;
  for (let last = 0; last < sorted.length; last++) {
    while ((sorted[first] ?? Infinity) <= (sorted[last] ?? 0) - windowMs) first++;
    peak = Math.max(peak, last - first + 1);
  }
  return peak;
}
