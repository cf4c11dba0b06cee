import { API_KEY } from '../test/support/bed.js';
import { startPostgres, type PostgresCluster } from '../test/support/postgres.js';
import { sampleRows } from '../test/support/sample-data.js';
import { benchEnv, type BenchEnv, type Figure } from './lib.js';
import { runBuiltCli } from './built-cli.js';
import { holderKillToFirstCall } from './postgres-kill.js';
import { forkWarmChild } from './warm-rerun.js';

/**
 * B15: the PostgreSQL store (cache.url, issue 21) beside SQLite, in one run, as ratios of
 * PostgreSQL's figure to SQLite's (the ideal): a warm rerun of 10,000 rows (≤ 2× SQLite's
 * time, and ≤ 3 s for the whole process), a cold latency-bound run (≤ 1.1×), and the seconds
 * from a lock holder's SIGKILL to the next instance's first LLM call (≤ 5 s). The server is a
 * throwaway cluster of Debian's postgresql on 127.0.0.1 (test/support/postgres.ts: fsync off,
 * synchronous_commit on), so a commit costs a loopback round trip and no disk flush, where
 * SQLite's costs an fsync (synchronous=FULL): a managed database adds the network's latency.
 */
export async function postgresBesideSqlite(): Promise<Figure[]> {
  const cluster = await startPostgres();
  try {
    const warm = await warmRerunBoth(cluster);
    const cold = await coldLatencyBoth(cluster);
    const kill = await holderKillToFirstCall(cluster);
    return [...warm, ...cold, ...kill];
  } finally {
    cluster.dispose();
  }
}

type StoreName = 'SQLite' | 'PostgreSQL';

async function cacheOf(store: StoreName, cluster: PostgresCluster): Promise<Record<string, unknown>> {
  return store === 'SQLite' ? {} : { cache: { url: await cluster.createDatabase('bench') } };
}

const WARM_ROWS = 10_000;
const WARM_RUNS = 3;
const SETUP_QUOTA = 100_000;

interface Rerun {
  /** Around main() in a child (module loading excluded). */
  mainMs: number;
  /** The compiled bin, spawn to exit: what a scheduler waits for. */
  processMs: number;
  llmCalls: number;
}

/** B15a: the cold run fills the cache and the sheet; each measured rerun is a process of its own (bench/warm-child.ts), under the default quotas. */
async function warmRerunBoth(cluster: PostgresCluster): Promise<Figure[]> {
  const results = new Map<StoreName, Rerun[]>();
  for (const store of ['SQLite', 'PostgreSQL'] as const) {
    const env = await benchEnv({
      rows: sampleRows(WARM_ROWS),
      sheets: { readQuotaPerMinute: SETUP_QUOTA, writeQuotaPerMinute: SETUP_QUOTA },
      config: { sheets: { read_quota_per_minute: SETUP_QUOTA, write_quota_per_minute: SETUP_QUOTA }, output: { write_batch_size: 1000 }, llm: { max_workers: 100 }, ...(await cacheOf(store, cluster)) },
    });
    try {
      const cold = await env.run();
      if (cold.code !== 0) throw new Error(`B15 ${store} cold run exited ${cold.code}`);
      env.setConfig({ sheets: { read_quota_per_minute: undefined, write_quota_per_minute: undefined }, output: { write_batch_size: undefined }, llm: { max_workers: undefined } });
      env.sheets.setQuota({ readPerMinute: 60, writePerMinute: 60 });
      const runs: Rerun[] = [];
      for (let i = 0; i < WARM_RUNS; i++) runs.push(await rerun(env, store));
      results.set(store, runs);
    } finally {
      await env.close();
    }
  }
  const median = (runs: Rerun[] | undefined, f: (r: Rerun) => number) => {
    const sorted = (runs ?? []).map(f).sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
  };
  const list = (runs: Rerun[] | undefined, f: (r: Rerun) => number) => (runs ?? []).map((r) => f(r).toFixed(0)).join(', ');
  const sqlite = results.get('SQLite');
  const postgres = results.get('PostgreSQL');
  const calls = Math.max(...[...(sqlite ?? []), ...(postgres ?? [])].map((r) => r.llmCalls));
  return [
    {
      name: 'B15 warm rerun 10,000 rows, PostgreSQL vs SQLite (run)',
      value: median(postgres, (r) => r.mainMs) / 1000,
      ideal: median(sqlite, (r) => r.mainMs) / 1000,
      target: 2,
      unit: 's',
      note: `median of ${WARM_RUNS} reruns each, timed around main(): PostgreSQL ${list(postgres, (r) => r.mainMs)} ms, SQLite ${list(sqlite, (r) => r.mainMs)} ms`,
    },
    {
      name: 'B15 warm rerun 10,000 rows, PostgreSQL, whole process',
      value: median(postgres, (r) => r.processMs) / 1000,
      unit: 's',
      limit: 3,
      note: `the compiled bin, spawn to exit (node and the modules loaded, the connection opened and closed): PostgreSQL ${list(postgres, (r) => r.processMs)} ms, SQLite ${list(sqlite, (r) => r.processMs)} ms`,
    },
    { name: 'B15 warm rerun LLM calls', value: calls, unit: 'calls', limit: 0, note: 'most in one rerun, either store' },
  ];
}

/** One rerun timed around main() (bench/warm-child.ts), then one of the compiled bin timed from spawn to exit. */
async function rerun(env: BenchEnv, store: StoreName): Promise<Rerun> {
  env.sheets.resetQuota();
  env.llm.reset();
  const report = await forkWarmChild(env.configPath, `B15 ${store}`);
  if (report.code !== 0) throw new Error(`B15 ${store} warm rerun exited ${report.code}`);
  const mainCalls = env.llm.callCount();
  env.sheets.resetQuota();
  const built = await runBuiltCli(env.configPath, { TEST_OPENAI_KEY: API_KEY });
  if (built.code !== 0) throw new Error(`B15 ${store} warm rerun (bin) exited ${built.code}`);
  return { mainMs: report.wallMs, processMs: built.wallMs, llmCalls: Math.max(mainCalls, env.llm.callCount()) };
}

/** The R1 shape (1,000 rows, 20 workers, 100 ms a call): the model's latency bounds the run; each store's run is repeated, alternating. */
const COLD = { rows: 1000, workers: 20, latency: { mean: 100, jitter: 0 }, repeats: 2 };

async function coldLatencyBoth(cluster: PostgresCluster): Promise<Figure[]> {
  const walls: Record<StoreName, number[]> = { SQLite: [], PostgreSQL: [] };
  for (let i = 0; i < COLD.repeats; i++) {
    for (const store of ['SQLite', 'PostgreSQL'] as const) {
      const env = await benchEnv({ rows: sampleRows(COLD.rows), llm: { latencyMs: COLD.latency }, config: { llm: { max_workers: COLD.workers }, ...(await cacheOf(store, cluster)) } });
      try {
        const started = performance.now();
        const { code } = await env.run();
        walls[store].push((performance.now() - started) / 1000);
        if (code !== 0) throw new Error(`B15 cold ${store}: run exited ${code}`);
      } finally {
        await env.close();
      }
    }
  }
  const best = (values: number[]) => Math.min(...values);
  const ideal = (Math.ceil(COLD.rows / COLD.workers) * COLD.latency.mean) / 1000;
  return [
    {
      name: 'B15 cold latency-bound run, PostgreSQL vs SQLite',
      value: best(walls.PostgreSQL),
      ideal: best(walls.SQLite),
      target: 1.1,
      unit: 's',
      note: `best of ${COLD.repeats} each (PostgreSQL ${walls.PostgreSQL.map((w) => w.toFixed(2)).join(', ')} s; SQLite ${walls.SQLite.map((w) => w.toFixed(2)).join(', ')} s); ${COLD.rows} rows, ${COLD.workers} workers, ${COLD.latency.mean} ms a call: the model alone needs ${ideal} s`,
    },
  ];
}
