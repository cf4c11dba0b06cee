/**
 * Issue 25, item 2: writes sized by bytes. A write call carries as many rows as fit Google's
 * recommended 2 MB (https://developers.google.com/sheets/api/limits), measured at the
 * emulator as the googleapis client sends it; its identity read (invariant 1) stays as
 * strict with thousands of rows in it, and within Google's limits (the URL of a GET, about
 * 2 MB of answer).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { col, DEFAULT_QUOTAS, HEADER, OUTPUT_HEADERS, SPREADSHEET_ID, startBed, TAB, TWO_MB, type Bed } from '../support/bed.js';
import { expectedCells, waitFor } from '../support/inspect.js';
import type { Cell, RecordedCall } from '../support/sheets-emulator/index.js';
import { URL_LIMIT_BYTES } from '../support/sheets-emulator/index.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

/** Data rows a range covers ('Statuses'!12:340 → 329; the header row 1:1 counts for nothing). */
function rowsCovered(range: string): number {
  const match = /!\$?[A-Z]*(\d+):\$?[A-Z]*(\d+)$/.exec(range);
  if (!match) return 0;
  const first = Number(match[1]);
  return first <= 1 ? 0 : Number(match[2]) - first + 1;
}

/** Most data rows one values.batchUpdate wrote. */
const largestWrite = (calls: readonly RecordedCall[]) =>
  calls.filter((c) => c.op === 'values.batchUpdate').reduce((max, c) => Math.max(max, (c.ranges ?? []).filter((r) => /!E/.test(r)).reduce((n, r) => n + rowsCovered(r), 0)), 0);

/** Holds the first verdict write until `answers` answers are in: what a slow Sheets does, so that thousands of rows pile up behind it. */
function holdFirstWrite(b: Bed, answers: number): void {
  let held = false;
  b.sheets.onRequest(async (call) => {
    if (held || call.op !== 'values.batchUpdate' || !(call.ranges ?? []).some((r) => /!E\d+:I\d+$/.test(r))) return;
    held = true;
    await waitFor(`${answers} answers`, () => b.llm.callCount() >= answers, 60_000);
    // The last answers are still being committed and queued for writing: give them a moment.
    await new Promise((resolve) => setTimeout(resolve, 1500));
  });
}

/**
 * Tells the writer's identity reads from the run's own chunk reads (issue 25: later chunks
 * are read as values.batchGet with the header row too). A chunk read reaches rows past the
 * furthest row read so far; an identity read re-reads rows already read (a few rows further
 * at most, when rows were inserted above). Fed the calls in order.
 */
function identityReadSorter(): (call: RecordedCall) => boolean {
  let frontier = 0;
  return (call) => {
    const ranges = (call.ranges ?? (call.range !== undefined ? [call.range] : [])).filter((r) => r.startsWith(`'${TAB}'!`) || r === `'${TAB}'`);
    if (call.kind !== 'read' || ranges.length === 0) return false;
    const ends = ranges.map((r) => Number(/!\d+:(\d+)$/.exec(r)?.[1] ?? 0));
    const end = Math.max(...ends);
    const chunk = call.op === 'values.get' || end > frontier + 10;
    frontier = Math.max(frontier, end);
    return !chunk && (call.op === 'values.batchGet' || call.op === 'values.batchGetByDataFilter');
  };
}

const identityReads = (calls: readonly RecordedCall[]) => {
  const isIdentity = identityReadSorter();
  return calls.filter((c) => isIdentity(c));
};

/** Every row that shows a verdict shows the one computed for its own inputs; returns their ids. */
function expectNoVerdictOnAWrongRow(values: string[][]): string[] {
  const [verdictCol, suggestionCol] = ['Validation', 'Suggested rewrite'].map((h) => col(values, h));
  const shown: string[] = [];
  values.slice(1).forEach((row, i) => {
    const verdict = row[verdictCol ?? -1] ?? '';
    const suggestion = row[suggestionCol ?? -1] ?? '';
    if (verdict === '' && suggestion === '') return;
    expect({ verdict, suggestion }, `row ${i + 2} (${row[0]})`).toEqual(expectedCells(row));
    shown.push(row[0] ?? '');
  });
  return shown;
}

/** A comment of about 3,500 characters (under rules.max_comment_chars) that JSON must escape: quotes, backslashes, emoji, accents. */
function largeComment(i: number): string {
  const piece = `Row ${i}: "quoted" work, C:\\path\\to\\file — déjà vu 🚀📊 ok; `;
  return piece.repeat(Math.floor(3500 / piece.length));
}

describe('writes sized by bytes', () => {
  it('writes a cold run of multi-KB cells in calls of at most 2 MB each, measured at the emulator, and loses no verdict', async () => {
    const rows = sampleRows(1000).map(([id = '', status = '', , due = ''], i) => [id, status, largeComment(i), due]);
    bed = await startBed({ rows, header: [...HEADER, ...OUTPUT_HEADERS], llm: { latencyMs: 1 }, config: { llm: { max_workers: 20 }, sheets: DEFAULT_QUOTAS } });
    holdFirstWrite(bed, rows.length);
    const result = await bed.run('--json');
    expect(result.code, result.stderr).toBe(0);

    const writes = bed.sheets.calls.filter((c) => c.op === 'values.batchUpdate');
    const total = writes.reduce((n, c) => n + c.bodyBytes, 0);
    expect(total).toBeGreaterThan(2 * TWO_MB);
    for (const call of writes) {
      expect(call.status).toBe(200);
      expect(call.bodyBytes).toBeLessThanOrEqual(TWO_MB);
    }
    // Sized by bytes: the calls are few and full, not 1,000-row or 10-row ones.
    expect(writes.length).toBeLessThanOrEqual(Math.ceil(total / (0.8 * TWO_MB)) + 3);
    // Their identity reads answered about 2 MB at most too (the rows' cells, a few hundred bytes of JSON aside).
    for (const read of identityReads(bed.sheets.calls)) {
      const rowsRead = (read.ranges ?? []).reduce((n, r) => n + rowsCovered(r), 0);
      expect(rowsRead * Buffer.byteLength(largeComment(999))).toBeLessThanOrEqual(1.1 * TWO_MB);
    }
    const values = bed.values();
    expect(expectNoVerdictOnAWrongRow(values)).toHaveLength(1000);
    const summary = JSON.parse(result.stdout) as { writes: { rowsWritten: number; skipped: unknown[] } };
    expect(summary.writes.rowsWritten).toBe(1000);
    expect(summary.writes.skipped).toEqual([]);
  }, 60_000);

  it('keeps every identity check when a write holds thousands of rows: an edited and a deleted row are skipped, moved rows followed', async () => {
    const rows = sampleRows(4000);
    bed = await startBed({ rows, header: [...HEADER, ...OUTPUT_HEADERS], llm: { latencyMs: 1 }, config: { llm: { max_workers: 20 }, sheets: DEFAULT_QUOTAS } });
    const b = bed;
    holdFirstWrite(b, 3500);
    const editedComment = 'Edited by a person during the run: the cut-over moved to next Friday after the load test.';
    const inserted: Cell[][] = [
      ['NEW-1', 'Planned', 'Inserted above during the run: kickoff booked for Monday, plan due on Friday.', '2026-12-01'],
      ['NEW-2', 'Done', 'Inserted above during the run: the audit report was sent; nothing further planned.', '2026-12-02'],
    ];
    let edited: string | undefined;
    let deleted: string | undefined;
    let largest = 0;
    const isIdentity = identityReadSorter();
    b.sheets.onRequest((call) => {
      if (!isIdentity(call as RecordedCall) || edited !== undefined) return;
      const ranges = (call.ranges ?? []).filter((r) => rowsCovered(r) > 0);
      const covered = ranges.reduce((n, r) => n + rowsCovered(r), 0);
      largest = Math.max(largest, covered);
      if (covered < 1000) return;
      // Right before the identity read of a write of a thousand rows or more: a person edits one of them, deletes another, and inserts rows above all.
      // Two rows this read brings that show no verdict yet (rows of the write, or answered later: either way checked again before their write).
      const values = b.values();
      const verdictCol = col(values, 'Validation');
      const unwritten: number[] = [];
      for (const range of ranges) {
        const match = /!(\d+):(\d+)$/.exec(range);
        for (let row = Number(match?.[1]); row <= Number(match?.[2]); row++) if ((values[row - 1]?.[verdictCol] ?? '') === '') unwritten.push(row);
      }
      const [editAt = 0, deleteAt = 0] = [unwritten[10], unwritten[20]];
      edited = values[editAt - 1]?.[0];
      deleted = values[deleteAt - 1]?.[0];
      b.sheets.setCell(SPREADSHEET_ID, TAB, editAt, 3, editedComment);
      b.sheets.deleteRows(SPREADSHEET_ID, TAB, deleteAt, 1);
      b.sheets.insertRows(SPREADSHEET_ID, TAB, 2, inserted);
    });

    const result = await b.run('--json');
    expect(result.code, result.stderr).toBe(0);
    expect(b.sheets.hookErrors).toEqual([]);
    expect(edited).toMatch(/^PRJ-/);
    expect(deleted).toMatch(/^PRJ-/);
    const summary = JSON.parse(result.stdout) as { writes: { rowsMoved: number; skipped: Array<{ id: string }> } };
    // Thousands of rows in one write and in its identity read.
    expect(largest).toBeGreaterThan(2000);
    expect(largestWrite(b.sheets.calls)).toBeGreaterThan(2000);
    expect(summary.writes.skipped.map((s) => s.id).sort()).toEqual([deleted, edited].sort());
    expect(summary.writes.rowsMoved).toBeGreaterThan(1000);

    const values = b.values();
    const shown = expectNoVerdictOnAWrongRow(values);
    expect(shown.filter((id) => id.startsWith('PRJ-')).sort()).toEqual(rows.map((r) => r[0] ?? '').filter((id) => id !== edited && id !== deleted).sort());
    expect(values.find((row) => row[0] === edited)?.[col(values, 'Validation')] ?? '').toBe('');
    expect(values.some((row) => row[0] === deleted)).toBe(false);
    // Only output columns were written, and the inserted rows (never read by this run) got nothing.
    for (const call of b.sheets.calls.filter((c) => c.op === 'values.batchUpdate')) for (const range of call.ranges ?? []) expect(range).toMatch(/^'Statuses'!E\d+:I\d+$/);
    expect(shown.filter((id) => id.startsWith('NEW-'))).toEqual([]);
  }, 90_000);

  it('re-reads a write of scattered rows run by run, in one read within the URL limit, and no more rows than it writes', async () => {
    const rows = sampleRows(3000);
    bed = await startBed({ rows, header: [...HEADER, ...OUTPUT_HEADERS], llm: { latencyMs: 1 }, config: { llm: { max_workers: 20 }, sheets: { read_quota_per_minute: 6000, write_quota_per_minute: 6000 } } });
    const first = await bed.run();
    expect(first.code, first.stderr).toBe(0);
    // A person rewrites every 7th comment: the next run asks those rows only, scattered over the tab.
    const changed = rows.map((_, i) => i).filter((i) => i % 7 === 3);
    for (const i of changed) bed.sheets.setCell(SPREADSHEET_ID, TAB, i + 2, 3, `Rewritten by a person: step ${i} done, next step by Friday.`);
    bed.setConfig({ sheets: DEFAULT_QUOTAS });
    bed.sheets.resetCalls();
    holdFirstWrite(bed, bed.llm.callCount() + changed.length);

    const second = await bed.run('--json');
    expect(second.code, second.stderr).toBe(0);
    const summary = JSON.parse(second.stdout) as { writes: { rowsWritten: number } };
    expect(summary.writes.rowsWritten).toBe(changed.length);
    const calls = bed.sheets.calls;
    expect(largestWrite(calls)).toBeGreaterThan(100);
    expect(calls.filter((c) => c.status === 414)).toEqual([]);
    for (const call of calls) expect(call.urlBytes).toBeLessThanOrEqual(URL_LIMIT_BYTES);
    const reads = identityReads(calls);
    // The large write's ranges went in a POST body; each identity read named runs of rows, not the span between the first and the last.
    expect(reads.some((c) => c.op === 'values.batchGetByDataFilter')).toBe(true);
    const rowsRead = reads.reduce((n, c) => n + (c.ranges ?? []).reduce((m, r) => m + rowsCovered(r), 0), 0);
    expect(rowsRead).toBeLessThanOrEqual(changed.length * 1.01);
    expect(expectNoVerdictOnAWrongRow(bed.values())).toHaveLength(3000);
  }, 90_000);
});
