import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sampleRows } from '../test/support/sample-data.js';
import type { RecordedCall } from '../test/support/sheets-emulator/index.js';
import { benchEnv, type BenchEnv, type Figure } from './lib.js';
import { forkWarmChild } from './warm-rerun.js';

const ROWS = 50_000;
/** Generous quotas and big batches for the cold run that fills the cache and the sheet (setup, not measured). */
const SETUP_QUOTA = 100_000;
/** Reruns measured; the median is reported. */
const WARM_RUNS = 3;

/**
 * B4: a rerun over 50,000 rows that are all cached and already written. The cold run
 * (fast model, high quotas) fills the cache and the sheet; the measured run uses the
 * default config (60 Sheets calls per minute each way) and must make no LLM call, at
 * most 2 Sheets calls, and spend at most 20 µs per row of its own.
 *
 * Each rerun is a `status-validator run` in a process of its own (bench/warm-child.ts),
 * as a rerun is in real life: its peak RSS is the bot's alone, with no emulator and no
 * garbage of the cold run in it. Its wall time is taken there, around main() (module
 * loading excluded).
 *
 * Pipeline overhead = wall time of the run − the Sheets emulator's serving time of the
 * run's calls. What remains is the bot: config, key, SQLite, parsing the response,
 * keys, selection, summary.
 *
 * Serving time: the same calls replayed after the run with a bare fetch, timed inside
 * the server from node:http's http.server.request.start to http.server.response.finish
 * (diagnostics_channel). Not during the run itself: there the response's 'finish' is
 * only reported once the bot yields to the event loop, which a warm run — pure CPU
 * after the read — does only at its very end.
 */
export async function warmRerun(): Promise<Figure[]> {
  const env = await benchEnv({
    rows: sampleRows(ROWS),
    sheets: { readQuotaPerMinute: SETUP_QUOTA, writeQuotaPerMinute: SETUP_QUOTA },
    config: {
      sheets: { read_quota_per_minute: SETUP_QUOTA, write_quota_per_minute: SETUP_QUOTA },
      output: { write_batch_size: 1000 },
      llm: { max_workers: 100 },
    },
  });
  try {
    const coldStart = performance.now();
    const cold = await env.run();
    const coldS = (performance.now() - coldStart) / 1000;
    const written = (cold.summary.writes as { rowsWritten: number }).rowsWritten;
    if (cold.code !== 0 || written !== ROWS) throw new Error(`B4 cold run: exit ${cold.code}, ${written} of ${ROWS} rows written`);

    // The measured runs: default quotas and batch size, fresh counters.
    env.setConfig({ sheets: { read_quota_per_minute: undefined, write_quota_per_minute: undefined }, output: { write_batch_size: undefined }, llm: { max_workers: undefined } });
    env.sheets.setQuota({ readPerMinute: 60, writePerMinute: 60 });
    const runs: WarmRun[] = [];
    for (let i = 0; i < WARM_RUNS; i++) runs.push(await warmRun(env));
    const sorted = [...runs].sort((a, b) => a.wallMs - b.wallMs);
    const median = sorted[Math.floor(sorted.length / 2)] as WarmRun;
    const serving = await servingTime(env.sheets.url, env.sheets.port, median.calls);
    const overheadUs = ((median.wallMs - serving.totalMs) * 1000) / ROWS;
    const worst = (f: (r: WarmRun) => number) => Math.max(...runs.map(f));
    const mib = (bytes: number) => bytes / 2 ** 20;
    return [
      {
        name: 'B4 warm rerun wall time',
        value: median.wallMs / 1000,
        unit: 's',
        note:
          `median of ${WARM_RUNS} reruns (${runs.map((r) => r.wallMs.toFixed(0)).join(', ')} ms) over ${ROWS} rows, ${median.upToDate} up to date; ` +
          `Sheets emulator serving ${serving.totalMs.toFixed(0)} ms of it (${serving.roundTripMs.toFixed(0)} ms round trip with a bare fetch); cold run (setup) ${coldS.toFixed(1)} s`,
      },
      { name: 'B4 pipeline overhead', value: overheadUs, unit: 'µs/row', limit: 20, note: `(wall − emulator serving time) / ${ROWS} rows` },
      { name: 'B4 LLM calls', value: worst((r) => r.llmCalls), unit: 'calls', limit: 0, note: `most in one rerun` },
      { name: 'B4 Sheets calls', value: worst((r) => r.calls.length), unit: 'calls', limit: 2, note: `most in one rerun: ${median.calls.map((c) => c.op).join(', ')}` },
      {
        name: 'B4 peak RSS',
        value: mib(worst((r) => r.maxRssBytes)),
        unit: 'MiB',
        note: `maxRSS of the rerun's own process (the bot alone; node, modules and the 50,000-row read included), highest of ${WARM_RUNS}`,
      },
    ];
  } finally {
    await env.close();
  }
}

interface WarmRun {
  wallMs: number;
  upToDate: number;
  calls: RecordedCall[];
  llmCalls: number;
  maxRssBytes: number;
}

/** One rerun in a child process (bench/warm-child.ts), timed there around main(). */
async function warmRun(env: BenchEnv): Promise<WarmRun> {
  env.sheets.resetQuota();
  env.sheets.resetCalls();
  env.llm.reset();
  const report = await forkWarmChild(env.configPath, 'B4');
  if (report.code !== 0) throw new Error(`B4 warm run exited ${report.code}`);
  const rows = report.summary.rows as { upToDate: number };
  return { wallMs: report.wallMs, upToDate: rows.upToDate, calls: [...env.sheets.calls], llmCalls: env.llm.callCount(), maxRssBytes: report.maxRssBytes };
}

/**
 * The server-side time of these (GET) calls, replayed one at a time with a bare fetch:
 * the best of 3 replays of the whole set. Also the round trip a client sees (body read, not parsed).
 */
async function servingTime(root: string, port: number, calls: ReadonlyArray<{ method: string; path: string }>): Promise<{ totalMs: number; roundTripMs: number }> {
  const rounds: Array<{ totalMs: number; roundTripMs: number }> = [];
  for (let round = 0; round < 3; round++) {
    const clock = new ServingClock(port);
    const began = performance.now();
    try {
      for (const call of calls) {
        if (call.method !== 'GET') throw new Error(`B4: cannot replay ${call.method} ${call.path}`);
        // The query the bot's SheetsClient.read sends.
        const response = await fetch(new URL(`${call.path.replace(/^\//, '')}?valueRenderOption=FORMATTED_VALUE&majorDimension=ROWS`, root), {
          headers: { authorization: 'Bearer replay' },
        });
        if (!response.ok) throw new Error(`B4: replay of ${call.path} answered ${response.status}`);
        await response.arrayBuffer();
        // The client may hold the whole body before the server hears its write finished.
        await clock.settled();
      }
    } finally {
      clock.stop();
    }
    rounds.push({ totalMs: clock.totalMs, roundTripMs: performance.now() - began });
  }
  return rounds.reduce((best, r) => (r.totalMs < best.totalMs ? r : best));
}

/** Sums the time one HTTP server (by port) spends between receiving a request and finishing its response. */
class ServingClock {
  totalMs = 0;
  private readonly open = new Map<IncomingMessage, number>();
  private readonly onStart = (message: unknown) => {
    const { request, server } = message as { request: IncomingMessage; server: Server };
    if ((server.address() as AddressInfo | null)?.port === this.port) this.open.set(request, performance.now());
  };
  private readonly onFinish = (message: unknown) => {
    const { request } = message as { request: IncomingMessage };
    const start = this.open.get(request);
    if (start === undefined) return;
    this.totalMs += performance.now() - start;
    this.open.delete(request);
  };

  constructor(private readonly port: number) {
    subscribe('http.server.request.start', this.onStart);
    subscribe('http.server.response.finish', this.onFinish);
  }

  /** Resolves once every response started has finished (1 s at most). */
  async settled(): Promise<void> {
    for (const deadline = performance.now() + 1000; this.open.size > 0 && performance.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    if (this.open.size > 0) throw new Error('B4: the Sheets emulator never finished a response');
  }

  stop(): void {
    unsubscribe('http.server.request.start', this.onStart);
    unsubscribe('http.server.response.finish', this.onFinish);
  }
}
