import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { main } from '../src/cli/main.js';
import { API_KEY, HEADER, baseConfig, col, deepMerge, writeServiceAccountKey } from '../test/support/bed.js';
import { startOpenAIEmulator } from '../test/support/openai-emulator/index.js';
import { startSheetsEmulator, type RecordedCall } from '../test/support/sheets-emulator/index.js';
import { sampleRows } from '../test/support/sample-data.js';
import type { Figure } from './lib.js';
import { peakInWindow } from './writes.js';

/** Rows of each big target (B9_ROWS shrinks the bench to try a change quickly; the figures are then not B9's). */
const BIG = Number(process.env.B9_ROWS ?? 500);
const SMALL = Math.max(1, Math.round(BIG / 10));
const BOOKS = 4;
const TABS = 5;
const RPM = 1200;
const QUOTA = 60;
const PROJECT_QUOTA = 300;

/**
 * B9 (issue 14): a portfolio of 20 targets in 4 spreadsheets of 5 tabs, one service
 * account: 19 tabs of 500 rows and one of 50 (the last one listed, so that it is the
 * last to open: first come, first served would make it wait for everyone). One config,
 * one `run` in this process. The OpenAI emulator enforces 1,200 requests a minute per
 * second (20 a second, as B2), learned from its headers; the Sheets emulator Google's
 * default quotas, 60 reads and 60 writes a minute per user and 300 per project.
 *
 * The ideal is the rate-bound time of the 9,550 questions as B2 counts it: the server's
 * bucket starts full (one second's share, 20, may go at once), then 20 a second. What
 * else is unavoidable is milliseconds here (one tab read before the first question, one
 * verify read and one write after the last answer, against a local emulator).
 */
export async function portfolioFairness(): Promise<Figure[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sv-bench-b9-'));
  const sheets = await startSheetsEmulator({
    recordBodies: false,
    readQuotaPerMinute: QUOTA,
    writeQuotaPerMinute: QUOTA,
    projectReadQuotaPerMinute: PROJECT_QUOTA,
    projectWriteQuotaPerMinute: PROJECT_QUOTA,
  });
  const llm = await startOpenAIEmulator({ apiKey: API_KEY, recordBodies: false, latencyMs: { mean: 50, jitter: 10 }, rateLimit: { rpm: RPM, windowMs: 1000 } });
  try {
    const targets = layout();
    const all = sampleRows(targets.reduce((n, t) => n + t.rows, 0));
    let next = 0;
    const rowsOf = new Map<string, string[][]>();
    for (const book of new Set(targets.map((t) => t.book))) {
      const tabs = targets.filter((t) => t.book === book).map((t) => {
        const rows = all.slice(next, (next += t.rows));
        rowsOf.set(t.name, rows);
        return { title: t.tab, rows: [HEADER, ...rows], columnCount: 10, rowCount: t.rows + 10 };
      });
      sheets.addSpreadsheet(book, tabs);
    }
    writeServiceAccountKey(path.join(dir, 'credentials.json'));
    const configPath = path.join(dir, 'config.yaml');
    const config = deepMerge(baseConfig(sheets.url, llm.url, dir), {
      llm: { max_workers: 100 },
      targets: targets.map((t) => ({ name: t.name, spreadsheet_id: t.book, sheet: t.tab })),
    });
    writeFileSync(configPath, stringify(config));

    let out = '';
    const started = Date.now();
    const code = await main(['run', '--config', configPath, '--json'], { stdout: { write: (s: string) => (out += s) }, stderr: { write: () => true }, env: { TEST_OPENAI_KEY: API_KEY } });
    const wall = (Date.now() - started) / 1000;
    const report = JSON.parse(out) as { total: { rowsAsked: number } };

    const small = targets[targets.length - 1] as Target;
    const missing = targets.reduce((n, t) => n + unwritten(sheets.values(t.book, t.tab), rowsOf.get(t.name)?.length ?? 0), 0);
    const calls = sheets.calls;
    const smallWrites = calls.filter((c) => c.kind === 'write' && c.status === 200 && c.spreadsheetId === small.book && touches(c, small.tab));
    const smallLast = (Math.max(...smallWrites.map((c) => c.at)) - started) / 1000;
    const chats = llm.requests.filter((r) => r.path === '/v1/chat/completions');
    const limited = chats.filter((r) => r.fault?.startsWith('rate_limit:')).length;
    const lastAnswer = (Math.max(...chats.map((r) => r.endedAt ?? r.startedAt)) - started) / 1000;
    const answered = chats.filter((r) => r.status === 200).length;
    const starts = chats.map((r) => r.startedAt).sort((a, b) => a - b);
    const firstAsked = ((starts[0] ?? started) - started) / 1000;
    const pace = (starts.length - 1) / Math.max(1e-9, ((starts.at(-1) ?? 0) - (starts[0] ?? 0)) / 1000);
    const ideal = ((answered - RPM / 60) / RPM) * 60;
    const times = (kind: 'read' | 'write') => calls.filter((c) => c.kind === kind && c.status !== 429).map((c) => c.at);
    const refused = calls.filter((c) => c.status === 429).length;
    const writes = times('write');
    const lastWrite = (Math.max(...writes) - started) / 1000;
    const name = `B9 portfolio (${targets.length - 1} × ${BIG} rows + 1 × ${SMALL})`;
    return [
      {
        name: `${name} wall time`,
        value: wall,
        unit: 's',
        ideal,
        target: 1.05,
        note: `exit ${code}; ${report.total.rowsAsked} rows asked, ${answered} answered; ideal = (${answered} − ${RPM / 60} of one second's burst) / ${RPM} per min; first question at ${firstAsked.toFixed(2)} s, then ${pace.toFixed(2)} a second, last answer at ${lastAnswer.toFixed(1)} s, last write at ${lastWrite.toFixed(1)} s; peak in flight ${llm.peakInFlight}`,
      },
      { name: `${name} rows without a verdict`, value: missing, unit: 'rows', limit: 0 },
      { name: `${name} LLM 429s`, value: limited, unit: 'requests', limit: Math.ceil(chats.length / 100), note: `of ${chats.length} requests (limit: 1 %, as B2)` },
      { name: `${name} Sheets 429s`, value: refused, unit: 'calls', limit: 0 },
      {
        name: `${name} last verdict of the ${SMALL}-row target in its tab`,
        value: smallLast / wall,
        unit: 'of the wall time',
        limit: 0.25,
        note: `at ${smallLast.toFixed(1)} s (the Sheets emulator's arrival of its last write call), ${smallWrites.length} write calls to its tab`,
      },
      { name: `${name} write calls in any 60 s window`, value: peakInWindow(writes, 60_000), unit: 'calls', limit: QUOTA, note: `${writes.length} write calls in all` },
      { name: `${name} read calls in any 60 s window`, value: peakInWindow(times('read'), 60_000), unit: 'calls', limit: QUOTA, note: `${times('read').length} read calls in all` },
    ];
  } finally {
    await Promise.all([sheets.close(), llm.close()]);
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Target {
  name: string;
  book: string;
  tab: string;
  rows: number;
}

/** 4 spreadsheets of 5 tabs; the last tab of the last spreadsheet is the small one. */
function layout(): Target[] {
  const out: Target[] = [];
  for (let b = 0; b < BOOKS; b++) {
    for (let t = 0; t < TABS; t++) {
      const last = b === BOOKS - 1 && t === TABS - 1;
      out.push({ name: last ? 'small' : `team-${b + 1}-${t + 1}`, book: `book-${b + 1}`, tab: last ? 'Small' : `Team ${t + 1}`, rows: last ? SMALL : BIG });
    }
  }
  return out;
}

/** Rows of a tab whose Validation cell holds no verdict. */
function unwritten(values: string[][], rows: number): number {
  const verdict = col(values, 'Validation');
  let missing = 0;
  for (let i = 1; i <= rows; i++) {
    const cell = values[i]?.[verdict];
    if (cell !== 'VALID' && cell !== 'INVALID') missing++;
  }
  return missing;
}

/** Whether a write call writes to this tab ('Small'!F2:J11, or Small!F2). */
function touches(call: RecordedCall, tab: string): boolean {
  const ranges = [...(call.ranges ?? []), ...(call.range ? [call.range] : [])];
  return ranges.some((r) => r.startsWith(`'${tab}'!`) || r.startsWith(`${tab}!`));
}
