import { existsSync } from 'node:fs';
import { openStore, type StoredRun } from '../cache/index.js';
import { loadPortfolio, selectTargets } from '../config/index.js';
import type { RunSummary } from '../pipeline/index.js';
import { describeRequest, describeSheet, formatUsd } from '../report/index.js';
import type { CommandIO } from './context.js';

/**
 * `runs`: the recent runs recorded in the cache, newest first: a line per target and
 * run, the runs started together (one `run` over a portfolio) next to each other under
 * one group id. `--target` keeps one target's runs.
 */
export async function runsCommand(flags: { config: string; limit: number; json?: boolean; target?: string }, io: CommandIO): Promise<number> {
  // Only the cache path is needed: no secrets are loaded, so `runs` works without credentials.
  const portfolio = loadPortfolio(flags.config, io.env);
  const targets = selectTargets(portfolio, flags.target);
  const [first] = targets;
  const path = first?.cache.path ?? '';
  // A SQLite cache not made yet has no runs (and is not made just to say so); a database (cache.url) is asked.
  if (first?.cache.url === undefined && !existsSync(path)) {
    io.stdout.write(flags.json ? '[]\n' : `No runs yet (no cache at ${path}).\n`);
    return 0;
  }
  const store = await openStore(first?.cache ?? { path });
  try {
    const runs = await store.runs.recent(flags.limit, flags.target === undefined ? undefined : targets.map((t) => t.target.name));
    io.stdout.write(flags.json ? `${JSON.stringify(runs, null, 2)}\n` : renderRuns(runs));
    return 0;
  } finally {
    await store.close();
  }
}

/** The first 8 characters of a group id tell the groups of a listing apart. */
const shortGroup = (group: string | null) => (group === null ? '-' : group.slice(0, 8));

function renderRuns(runs: StoredRun[]): string {
  if (runs.length === 0) return 'No runs yet.\n';
  const width = Math.max(6, ...runs.map((r) => r.target.length));
  const lines = [`started (UTC)         ${'target'.padEnd(width)}  group     trigger   status                 rows  asked  valid invalid error  calls  cost`];
  for (const run of runs) {
    const s = run.summary as Partial<RunSummary> | null;
    const cols = [
      run.startedAt.slice(0, 19).replace('T', ' ').padEnd(21),
      `${run.target.padEnd(width)} `,
      shortGroup(run.group).padEnd(9),
      run.trigger.padEnd(9),
      run.status.padEnd(22),
      String(s?.rows?.read ?? '').padStart(4),
      String(s?.rows?.asked ?? '').padStart(6),
      String(s?.verdicts?.valid ?? '').padStart(6),
      String(s?.verdicts?.invalid ?? '').padStart(7),
      String(s?.verdicts?.error ?? '').padStart(5),
      String(s?.llm?.calls ?? '').padStart(6),
      s?.llm ? ` ${formatUsd(s.llm.costUsd ?? null)}` : '',
    ];
    lines.push(cols.join(' '));
    // valid/invalid/error above are the run's answers; this is what the tab showed after it.
    if (s?.sheetShows) lines.push(`    the sheet showed after it: ${describeSheet(s.sheetShows)}`);
    const c = s?.llm?.cascade;
    if (c) lines.push(`    cascade: ${c.kept} kept by ${c.small}, ${c.escalated} escalated to ${c.large}, ${c.calibrationRows} calibration rows, agreement ≥ ${c.bound.toFixed(3)}${c.costUsd !== null && c.largeOnlyCostUsd ? `, cost ${(c.costUsd / c.largeOnlyCostUsd).toFixed(2)}× large-only` : ''}`);
    if (run.request) lines.push(`    by ${run.request.by}: ${describeRequest(run.request)}`);
    if (s?.fatal) lines.push(`    error: ${s.fatal.message}`);
  }
  return `${lines.join('\n')}\n`;
}
