/**
 * Issue 25, item 2: write calls are sized by the bytes of the body the googleapis client
 * actually sends — JSON escaping of quotes, backslashes, control characters and non-ASCII,
 * the A1 ranges (quoted tab names), the recheck boxes unticked, the results tab's appended
 * lines — never by an approximation that could pass the cap. Measured at the emulator,
 * which refuses bodies past the cap (as Google's front end refuses past its own).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ResultsTab, SheetWriter, SheetsClient, fingerprintOf, openSheet, type LayoutConfig } from '../../src/sheets/index.js';
import type { OutputField } from '../../src/sheets/layout.js';
import { SPREADSHEET_ID, testPrivateKey } from '../support/bed.js';
import { startSheetsEmulator, type RecordedCall, type SheetsEmulator } from '../support/sheets-emulator/index.js';

const CAP = 12_000;
const OUTPUTS: Record<OutputField, string> = { verdict: 'Validation', issues: 'Issues', suggestion: 'Suggested rewrite', checked_at: 'Checked at', model: 'Model' };
const HEADER = ['Project', 'Status', 'Comment', 'Due date', 'Recheck', ...Object.values(OUTPUTS)];
const TABS = ['Statuses', "Q'3 — été 📊", 'a!b "c" \\ d', `${"l'".repeat(40)}😀`];

/** Text Sheets cells hold, heavy in what JSON escapes: quotes, backslashes, control characters, non-ASCII, emoji. */
const escaped = fc.constantFrom('"', '\\', '\n', '\u0001', '\u001f', 'é', '😀', '👩‍👩‍👧', 'x', ' ', '</', '\u2028');
const cellText = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 1500, size: 'max' }),
  fc.string({ unit: escaped, maxLength: 2500, size: 'max' }),
  // Long cells cheaply: a random piece repeated.
  fc.tuple(fc.string({ unit: fc.oneof(escaped, fc.constant('a')), maxLength: 12 }), fc.integer({ min: 0, max: 400 })).map(([piece, times]) => piece.repeat(times)),
);
const shortText = fc.string({ unit: escaped, maxLength: 3 });
const rowCells = (text: fc.Arbitrary<string>) =>
  fc.record({ verdict: fc.constantFrom('VALID', 'INVALID', 'NEEDS REVIEW'), issues: text, suggestion: text, checked_at: fc.constant('2026-12-05T02:00:00.000Z'), model: fc.constantFrom('gpt-5-mini', 'modèle "β"') });
const rowsOf = (text: fc.Arbitrary<string>, maxLength: number) => fc.array(fc.record({ cells: rowCells(text), recheck: fc.boolean() }), { minLength: 2, maxLength, size: 'max' });
const scenario = fc.record({
  tab: fc.constantFrom(...TABS),
  // Long cells, or many short ones (then the ranges and the recheck boxes weigh more than the text).
  rows: fc.oneof(rowsOf(fc.oneof({ arbitrary: shortText, weight: 3 }, { arbitrary: cellText, weight: 1 }), 60), rowsOf(shortText, 300)),
  resultsTab: fc.boolean(),
  // A long spreadsheet id weighs in every results-tab line's link: the first estimate is short, the built body is cut.
  longId: fc.boolean(),
});

/** The data rows one write call carries: rows of its ranges (a values.batchUpdate), or lines (a values.append). */
function rowsIn(call: RecordedCall): number {
  if (call.op === 'values.append') return (call.body as { values: unknown[] }).values.length;
  const rows = new Set<number>();
  for (const range of call.ranges ?? []) {
    const match = /!\$?[A-Z]+(\d+)(?::\$?[A-Z]+(\d+))?$/.exec(range);
    if (!match) continue;
    for (let row = Number(match[1]); row <= Number(match[2] ?? match[1]); row++) rows.add(row);
  }
  return rows.size;
}

interface Scenario {
  longId?: boolean;
  tab: string;
  rows: Array<{ cells: Record<OutputField, string>; recheck: boolean }>;
  resultsTab: boolean;
}

async function runWriter(emu: SheetsEmulator, input: Scenario, spreadsheetId = input.longId ? `1${'x'.repeat(1200)}` : SPREADSHEET_ID): Promise<void> {
  const body = input.rows.map((r, i) => [`PRJ-${i + 1}`, 'Done', `comment ${i + 1}`, '2026-12-01', r.recheck ? 'TRUE' : 'FALSE']);
  emu.addSpreadsheet(spreadsheetId, [{ title: input.tab, rows: [input.resultsTab ? HEADER.slice(0, 5) : HEADER, ...body] }]);
  const client = new SheetsClient({
    spreadsheetId,
    key: { client_email: 'bot@t.iam.gserviceaccount.com', private_key: testPrivateKey() },
    apiRoot: emu.url,
    readsPerMinute: 60_000,
    writesPerMinute: 60_000,
    maxRetries: 0,
  });
  const config: LayoutConfig = { sheet: input.tab, headerRow: 1, inputs: { id: 'Project', status: 'Status', comment: 'Comment', completion_date: 'Due date' }, outputs: OUTPUTS, review: { recheck: 'Recheck' }, outputsInPlace: !input.resultsTab };
  const opened = await openSheet(client, config);
  let target: ResultsTab | undefined;
  if (input.resultsTab) {
    target = new ResultsTab(client, { spreadsheetId, tab: 'Results', sourceTab: input.tab, idHeader: 'Project', outputs: OUTPUTS });
    await target.open();
    target.show(opened.entries);
  }
  const writer = new SheetWriter(client, opened.layout, { batchSize: 1000, maxBodyBytes: CAP, ...(target ? { target } : {}) });
  opened.entries.forEach((entry, i) => {
    const row = input.rows[i];
    if (row) writer.enqueue({ row: entry.row, id: entry.id, fingerprint: fingerprintOf(entry.id, entry.inputs), cells: row.cells, clearRecheck: row.recheck });
  });
  await writer.close();
  expect(writer.stats.rowsWritten).toBe(input.rows.length);
}

describe('write bodies sized by bytes', () => {
  it('never sends a write body over the cap when it holds more than one row, and loses no verdict', async () => {
    let split = 0;
    await fc.assert(
      fc.asyncProperty(scenario, async (input) => {
        // A single row larger than the cap goes alone (below); the cap is checked on the calls of several rows.
        const emu = await startSheetsEmulator({ payloadLimitBytes: 1_000_000 });
        try {
          await runWriter(emu, input);
          const id = input.longId ? `1${'x'.repeat(1200)}` : SPREADSHEET_ID;
          const writes = emu.calls.filter((c) => c.op === 'values.batchUpdate' || c.op === 'values.append');
          for (const call of writes) {
            expect(call.status, `${call.op} of ${call.bodyBytes} bytes`).toBe(200);
            if (rowsIn(call) > 1) expect(call.bodyBytes).toBeLessThanOrEqual(CAP);
          }
          // Every verdict is where it belongs, as written (RAW), and every ticked box is unticked.
          const values = emu.values(id, input.resultsTab ? 'Results' : input.tab);
          const header = values[0] ?? [];
          const at = (name: string) => header.indexOf(name);
          input.rows.forEach((row, i) => {
            const line = input.resultsTab ? values.find((l) => l[at('Project')] === `PRJ-${i + 1}`) : values[i + 1];
            expect(line?.[at('Issues')], `row ${i + 2}`).toBe(row.cells.issues);
            expect(line?.[at('Suggested rewrite')]).toBe(row.cells.suggestion);
            expect(line?.[at('Validation')]).toBe(row.cells.verdict);
          });
          const data = emu.values(id, input.tab);
          for (let i = 0; i < input.rows.length; i++) expect(data[i + 1]?.[4]).toBe('FALSE');
          // Enough text to need several calls: the rows were split, not sent in one body past the cap.
          const total = writes.reduce((n, c) => n + c.bodyBytes, 0);
          if (total > CAP) expect(writes.length).toBeGreaterThan(1);
          if (writes.filter((c) => rowsIn(c) > 1).length > 1) split++;
        } finally {
          await emu.close();
        }
      }),
      { numRuns: 25, timeout: 10_000 },
    );
    // The cases were large enough to be split: most runs needed several calls of several rows.
    expect(split).toBeGreaterThan(10);
  }, 120_000);

  it('sends a single row larger than the cap alone, and writes it', async () => {
    const emu = await startSheetsEmulator({ payloadLimitBytes: 10 * CAP });
    try {
      const big = { verdict: 'INVALID', issues: '"'.repeat(CAP), suggestion: 'ok', checked_at: 't', model: 'm' };
      const small = { verdict: 'VALID', issues: '', suggestion: 'fine', checked_at: 't', model: 'm' };
      await runWriter(emu, { tab: 'Statuses', resultsTab: false, rows: [{ cells: small, recheck: false }, { cells: big, recheck: false }, { cells: small, recheck: true }] });
      const writes = emu.calls.filter((c) => c.op === 'values.batchUpdate');
      const over = writes.filter((c) => c.bodyBytes > CAP);
      expect(over).toHaveLength(1);
      expect(rowsIn(over[0] as RecordedCall)).toBe(1);
      expect(emu.values(SPREADSHEET_ID, 'Statuses')[2]?.[6]).toBe(big.issues);
    } finally {
      await emu.close();
    }
  });

  it('cuts a batch whose measured body passes the cap and writes the rest next, each row once, where it belongs', async () => {
    // The link back to each data row holds the spreadsheet id: a long one makes every new results-tab line weigh
    // more than the writer guessed before measuring, so the first batch is cut after it is built.
    const spreadsheetId = `1${'x'.repeat(1200)}`;
    const emu = await startSheetsEmulator({ payloadLimitBytes: CAP });
    try {
      const cells = (i: number) => ({ verdict: 'VALID', issues: '', suggestion: `ok ${i}`, checked_at: 't', model: 'm' });
      const rows = Array.from({ length: 40 }, (_, i) => ({ cells: cells(i), recheck: false }));
      await runWriter(emu, { tab: 'Statuses', resultsTab: true, rows }, spreadsheetId);
      const appends = emu.calls.filter((c) => c.op === 'values.append');
      expect(appends.length).toBeGreaterThan(1);
      for (const call of appends) {
        expect(call.status).toBe(200);
        expect(call.bodyBytes).toBeLessThanOrEqual(CAP);
      }
      const lines = emu.values(spreadsheetId, 'Results').slice(1).filter((line) => line[0] !== '');
      expect(lines.map((line) => line[0]).sort()).toEqual(rows.map((_, i) => `PRJ-${i + 1}`).sort());
      for (const line of lines) expect(line[1]).toMatch(new RegExp(`range=${Number(line[0]?.slice(4)) + 1}:`));
    } finally {
      await emu.close();
    }
  });
});
