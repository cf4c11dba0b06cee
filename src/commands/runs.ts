import { existsSync } from 'node:fs';
import { CacheStore, recentRuns, type StoredRun } from '../cache/index.js';
import { loadConfig } from '../config/index.js';
import type { RunSummary } from '../pipeline/index.js';
import { describeRequest, formatUsd } from '../report/index.js';
import type { CommandIO } from './context.js';

/** `runs`: the recent runs recorded in the cache, newest first. */
export function runsCommand(flags: { config: string; limit: number; json?: boolean }, io: CommandIO): number {
  const config = loadConfig(flags.config, io.env);
  if (!existsSync(config.cache.path)) {
    io.stdout.write(flags.json ? '[]\n' : `No runs yet (no cache at ${config.cache.path}).\n`);
    return 0;
  }
  const store = CacheStore.open(config.cache.path);
  try {
    const runs = recentRuns(store, flags.limit);
    io.stdout.write(flags.json ? `${JSON.stringify(runs, null, 2)}\n` : renderRuns(runs));
    return 0;
  } finally {
    store.close();
  }
}

function renderRuns(runs: StoredRun[]): string {
  if (runs.length === 0) return 'No runs yet.\n';
  const lines = ['started (UTC)         trigger   status                 rows  asked  valid invalid error  calls  cost'];
  for (const run of runs) {
    const s = run.summary as Partial<RunSummary> | null;
    const cols = [
      run.startedAt.slice(0, 19).replace('T', ' ').padEnd(21),
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
    if (run.request) lines.push(`    by ${run.request.by}: ${describeRequest(run.request)}`);
    if (s?.fatal) lines.push(`    error: ${s.fatal.message}`);
  }
  return `${lines.join('\n')}\n`;
}
