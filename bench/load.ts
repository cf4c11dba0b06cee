import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { API_KEY, SPREADSHEET_ID, TAB, col } from '../test/support/bed.js';
import { sampleRows } from '../test/support/sample-data.js';
import { benchEnv, type Figure } from './lib.js';
import type { ChildReport } from './warm-child.js';

const ROWS = 100_000;

/**
 * B7 (issue 4, item 9): a cold run over a 100,000-row sheet with a fast model and the
 * default Sheets quotas, the bot in a process of its own so its peak RSS is its alone.
 * Nothing may be lost: every row ends with a verdict in the sheet and in the cache.
 */
export async function largeSheet(): Promise<Figure[]> {
  const env = await benchEnv({
    rows: sampleRows(ROWS),
    sheets: { readQuotaPerMinute: 60, writeQuotaPerMinute: 60 },
    llm: { latencyMs: 2 },
    config: { llm: { max_workers: 50 } },
  });
  try {
    const extra = process.env.B7_NODE_OPTIONS ? process.env.B7_NODE_OPTIONS.split(' ') : [];
    const child = fork(fileURLToPath(new URL('./warm-child.ts', import.meta.url)), [env.configPath, API_KEY], { execArgv: ['--import', 'tsx', ...extra], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const exited = once(child, 'exit');
    const report = await new Promise<ChildReport>((resolve, reject) => {
      child.once('message', (message) => resolve(message as ChildReport));
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`B7: the run exited ${code} without a report`)));
    });
    await exited;
    const values = env.sheets.values(SPREADSHEET_ID, TAB);
    const verdict = col(values, 'Validation');
    const missing = values.slice(1).filter((row) => row[verdict] !== 'VALID' && row[verdict] !== 'INVALID').length;
    const writes = env.sheets.calls.filter((c) => c.kind === 'write').length;
    return [
      { name: 'B7 100,000-row run peak RSS', value: report.maxRssBytes / 2 ** 20, unit: 'MiB', limit: 300, note: `the bot's own process; exit ${report.code}; ${(report.wallMs / 1000).toFixed(0)} s; ${env.llm.callCount()} LLM calls; ${writes} Sheets write calls` },
      { name: 'B7 rows without a verdict after the run', value: missing, unit: 'rows', limit: 0, note: `of ${ROWS}` },
    ];
  } finally {
    await env.close();
  }
}
