import { API_KEY, SPREADSHEET_ID, TAB, col } from '../test/support/bed.js';
import { sampleRows } from '../test/support/sample-data.js';
import { benchEnv, type Figure } from './lib.js';
import { runBuiltCli } from './built-cli.js';

const ROWS = Number(process.env.B7_ROWS ?? 100_000);

/**
 * B7 (issue 4, item 9): a cold run over a 100,000-row sheet with a fast model and the
 * default Sheets quotas, the bot in a process of its own so its peak RSS is its alone.
 * Nothing may be lost: every row ends with a verdict in the sheet and in the cache.
 * B7_ROWS=N runs another size; B7_NODE_OPTIONS="--trace-gc …" passes flags to the bot.
 */
export async function largeSheet(): Promise<Figure[]> {
  const env = await benchEnv({
    rows: sampleRows(ROWS),
    sheets: { readQuotaPerMinute: 60, writeQuotaPerMinute: 60 },
    llm: { latencyMs: 2 },
    config: { llm: { max_workers: 50 } },
  });
  try {
    const nodeOptions = process.env.B7_NODE_OPTIONS ? process.env.B7_NODE_OPTIONS.split(' ') : [];
    const report = await runBuiltCli(env.configPath, { TEST_OPENAI_KEY: API_KEY }, nodeOptions);
    const values = env.sheets.values(SPREADSHEET_ID, TAB);
    const verdict = col(values, 'Validation');
    const missing = values.slice(1).filter((row) => row[verdict] !== 'VALID' && row[verdict] !== 'INVALID').length;
    const writes = env.sheets.calls.filter((c) => c.kind === 'write').length;
    return [
      { name: `B7 ${ROWS.toLocaleString('en')}-row run peak RSS`, value: report.maxRssBytes / 2 ** 20, unit: 'MiB', limit: 300, note: `the bot's own process; exit ${report.code}; ${(report.wallMs / 1000).toFixed(0)} s; ${env.llm.callCount()} LLM calls; ${writes} Sheets write calls` },
      { name: 'B7 rows without a verdict after the run', value: missing, unit: 'rows', limit: 0, note: `of ${ROWS}` },
    ];
  } finally {
    await env.close();
  }
}
