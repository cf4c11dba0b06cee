import { openStore } from '../src/cache/index.js';
import { loadConfig } from '../src/config/index.js';
import { keyerOf } from '../src/pipeline/index.js';
import { MAX_BYTES_PER_CALL, type Entry } from '../src/sheets/index.js';
import { API_KEY, SPREADSHEET_ID, TAB, col } from '../test/support/bed.js';
import { sampleRows } from '../test/support/sample-data.js';
import { runBuiltCli } from './built-cli.js';
import { benchEnv, type Figure } from './lib.js';
import { peakInWindow } from './writes.js';

const ROWS = Number(process.env.B8_ROWS ?? 150_000);
const QUOTA = 60;
const RENAMED = ['Validation (2025)', 'Issues (2025)', 'Suggested rewrite (2025)', 'Checked at (2025)', 'Model (2025)'];

/**
 * B8 (issue 10, item 6): a person renamed the output headers of a 150,000-row sheet whose
 * every verdict is cached. The next run must create the output columns anew after the
 * last used column (growing the grid) and rewrite every row from the cache: no LLM call,
 * write calls of at most MAX_BYTES_PER_CALL bytes of body within the default quota (60 a minute),
 * nothing left out. Before issue 10 the first coalesced flush spread 150,000 row numbers
 * into Math.min() and the run failed. The bot runs in a process of its own (the compiled
 * bin), so its peak RSS is its alone.
 */
export async function rewriteFromCache(): Promise<Figure[]> {
  const old = ['VALID', 'an old issue', 'an old rewrite', '2025-01-01T00:00:00.000Z', 'gpt-old'];
  const rows = sampleRows(ROWS).map((row) => [...row, ...old]);
  const env = await benchEnv({ rows, sheets: { readQuotaPerMinute: QUOTA, writeQuotaPerMinute: QUOTA } });
  try {
    RENAMED.forEach((header, i) => env.sheets.setCell(SPREADSHEET_ID, TAB, 1, 5 + i, header));
    await fillCache(env.configPath, rows);
    env.sheets.resetCalls();

    const report = await runBuiltCli(env.configPath, { TEST_OPENAI_KEY: API_KEY });
    const writes = report.summary.writes as { rowsWritten: number; calls: number; headersAdded: string[] };
    const values = env.sheets.values(SPREADSHEET_ID, TAB);
    const verdict = col(values, 'Validation');
    const missing = values.slice(1).filter((row) => row[verdict] !== 'VALID' && row[verdict] !== 'INVALID').length;
    const calls = env.sheets.calls;
    const writeTimes = calls.filter((c) => c.kind === 'write').map((c) => c.at);
    const valueWrites = calls.filter((c) => c.op === 'values.batchUpdate');
    const largest = valueWrites.reduce((max, c) => Math.max(max, rowsOf(c.ranges ?? [])), 0);
    const largestBody = valueWrites.reduce((max, c) => Math.max(max, c.bodyBytes), 0);
    const bodies = valueWrites.reduce((n, c) => n + c.bodyBytes, 0);
    const idealCalls = Math.ceil(bodies / MAX_BYTES_PER_CALL);
    const idealS = (idealCalls * 60) / QUOTA;
    return [
      { name: `B8 ${ROWS.toLocaleString('en')} rows rewritten from the cache: rows left without a verdict`, value: missing, unit: 'rows', limit: 0, note: `exit ${report.code}; ${writes.rowsWritten} rows written in ${writes.calls} calls; columns added: ${writes.headersAdded.join(', ')}` },
      { name: 'B8 write calls in any 60 s window', value: peakInWindow(writeTimes, 60_000), unit: 'calls', limit: QUOTA, note: `${writeTimes.length} write calls in all, ${calls.filter((c) => c.status === 429).length} answered 429` },
      { name: 'B8 body of the largest write call', value: largestBody / 1e6, unit: 'MB', limit: MAX_BYTES_PER_CALL / 1e6, note: `${largest} rows in the largest write call` },
      { name: 'B8 LLM calls', value: env.llm.callCount(), unit: 'calls', limit: 0 },
      { name: 'B8 wall time', value: report.wallMs / 1000, unit: 's', ideal: idealS, note: `ideal: ${idealCalls} write calls of ${MAX_BYTES_PER_CALL / 1e6} MB (the values written, ${(bodies / 1e6).toFixed(1)} MB) at ${QUOTA} a minute` },
      { name: 'B8 peak RSS', value: report.maxRssBytes / 2 ** 20, unit: 'MiB', note: "the bot's own process (compiled bin)" },
    ];
  } finally {
    await env.close();
  }
}

/** Every row's verdict in the cache, as an earlier run left it (setup, not measured): one restore, one transaction. */
async function fillCache(configPath: string, rows: string[][]): Promise<void> {
  const config = loadConfig(configPath);
  const keyOf = keyerOf(config);
  const store = await openStore(config.cache);
  try {
    const verdicts = rows.map(([id = '', status = '', comment = '', completion_date = '']) => {
      const entry = { row: 0, id, inputs: { status, comment, completion_date } } as unknown as Entry;
      return { key: keyOf(entry), verdict: 'VALID', issues: '[]', suggestion: `Rewrite: ${comment}`, model: 'gpt-5-mini', provider: 'emulator', checked_at: '2026-11-30T00:00:00.000Z', confidence: 0.9, prompt_tokens: 900, completion_tokens: 60, cached_tokens: 0 };
    });
    await store.restore({ table: 'verdicts', rows: verdicts });
  } finally {
    await store.close();
  }
}

/** Rows covered by the ranges of one write ('Tab'!J2:N1001 → 1000). */
function rowsOf(ranges: readonly string[]): number {
  let rows = 0;
  for (const range of ranges) {
    const match = /![A-Z]+(\d+)(?::[A-Z]+(\d+))?$/.exec(range);
    if (match) rows += Number(match[2] ?? match[1]) - Number(match[1]) + 1;
  }
  return rows;
}
