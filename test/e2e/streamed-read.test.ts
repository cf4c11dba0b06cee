/**
 * Issue 25, item 1: a run reads its tab in chunks (here forced small with
 * STATUS_VALIDATOR_READ_CHUNK_BYTES) and selects, asks and queues as they arrive, with
 * every guarantee of the whole-tab read across chunks. The CLI runs in-process through
 * the real googleapis and openai clients against the emulators.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readInChunksOf } from '../support/read-chunk-bytes.js';
import { SheetsClient } from '../../src/sheets/index.js';
import { col, FAST_SHEETS, HEADER, OUTPUT_HEADERS, SPREADSHEET_ID, startBed, TAB, testPrivateKey, type Bed } from '../support/bed.js';
import { expectedCells } from '../support/inspect.js';
import { SLOW, slowResponder, slowTwinRows, TWIN } from '../support/slow-twin.js';
import { sampleRow, sampleRows } from '../support/sample-data.js';
import { rowRangeOf, readsRows } from '../support/row-reads.js';

/** About 15 sample rows a chunk. */
const CHUNK_BYTES = '3000';

readInChunksOf(Number(CHUNK_BYTES));

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

/** Reads of data rows (values.get of a row range), as the emulator saw them. */
const rowReads = (b: Bed) => b.sheets.calls.filter(readsRows);

/** Each data row of the tab shows the verdict its own inputs get (the emulator's model, the status rule). */
function expectRightVerdicts(values: string[][], rows: ReadonlyArray<readonly string[] | null>): void {
  const verdict = col(values, 'Validation');
  rows.forEach((row, i) => {
    const shown = values[i + 1] ?? [];
    if (row === null) expect(shown[verdict] ?? '').toBe('');
    else expect({ row: i + 2, verdict: shown[verdict] }).toEqual({ row: i + 2, verdict: expectedCells(row).verdict });
  });
}

describe('streamed reads', () => {
  it('answers every row of a tab that has no output headers yet: the headers the bot adds between two chunks are not a person moving columns', async () => {
    // A first run on a fresh tab (B7's sheet): the output headers are planned from the first
    // chunk and added before the first write, while later chunks are still to be read.
    const rows = sampleRows(90);
    bed = await startBed({ rows, header: [...HEADER], config: { sheets: FAST_SHEETS, llm: { max_workers: 3 } } });
    const result = await bed.run('--json');
    expect(result.code, result.stderr).toBe(0);
    expect(rowReads(bed).length).toBeGreaterThan(4);
    const summary = JSON.parse(result.stdout) as { rows: { asked: number; deferred: number }; warnings: string[] };
    expect({ asked: summary.rows.asked, deferred: summary.rows.deferred, warnings: summary.warnings }).toEqual({ asked: 90, deferred: 0, warnings: [] });
    expectRightVerdicts(bed.values(), rows);
  });

  it('asks a question met in the first chunk and again in a late one once, on a cold run and with --force, and writes both rows', async () => {
    const rows = sampleRows(120);
    // Row 110 (the tab's row 111) asks exactly what row 0 (the tab's row 2) asks.
    rows[110] = [...(rows[0] ?? [])];
    rows[110][0] = 'PRJ-TWIN';
    bed = await startBed({ rows, header: [...HEADER, ...OUTPUT_HEADERS], config: { sheets: FAST_SHEETS, llm: { max_workers: 3 } } });
    const first = await bed.run('--json');
    expect(first.code, first.stderr).toBe(0);
    expect(rowReads(bed).length).toBeGreaterThan(4);
    expect(bed.llm.callCount()).toBe(119);
    expectRightVerdicts(bed.values(), rows);
    const summary = JSON.parse(first.stdout) as { rows: { read: number; asked: number; fromCache: number; deduplicated: number }; llm: { questions: number } };
    expect(summary.rows.read).toBe(120);
    expect(summary.llm.questions).toBe(119);
    // The twin is written from the verdict its question got in the first chunk, and counted
    // as a one-chunk read counts it: asked, sharing its question (deduplicated), not from the cache.
    expect({ asked: summary.rows.asked, fromCache: summary.rows.fromCache, deduplicated: summary.rows.deduplicated }).toEqual({ asked: 120, fromCache: 0, deduplicated: 1 });

    bed.llm.reset();
    const forced = await bed.run('--json', '--force');
    expect(forced.code, forced.stderr).toBe(0);
    expect(bed.llm.callCount()).toBe(119);
    expectRightVerdicts(bed.values(), rows);
  });

  it('counts --limit across chunks: exactly that many rows get a new answer, the rest wait', async () => {
    const rows = sampleRows(90);
    bed = await startBed({ rows, header: [...HEADER, ...OUTPUT_HEADERS], config: { sheets: FAST_SHEETS } });
    const result = await bed.run('--json', '--limit', '37');
    expect(result.code, result.stderr).toBe(0);
    expect(bed.llm.callCount()).toBe(37);
    const values = bed.values();
    const verdict = col(values, 'Validation');
    const written = values.slice(1).filter((r) => (r[verdict] ?? '') !== '');
    expect(written).toHaveLength(37);
    const summary = JSON.parse(result.stdout) as { rows: { asked: number; deferred: number } };
    expect(summary.rows).toMatchObject({ asked: 37, deferred: 53 });
    expect(rowReads(bed).length).toBeGreaterThan(3);
  });

  it('keeps a reviewer\'s verdict and answers a ticked box in a late chunk, unticking it in the same write', async () => {
    const rows = sampleRows(100);
    bed = await startBed({
      rows,
      header: [...HEADER, ...OUTPUT_HEADERS, 'Recheck', 'Reviewer verdict'],
      config: { sheets: FAST_SHEETS, review: { recheck_column: 'Recheck', override_column: 'Reviewer verdict' } },
    });
    expect((await bed.run()).code).toBe(0);
    // Late in the tab: a reviewer's verdict on row 95, a ticked box on row 98.
    bed.sheets.setCell(SPREADSHEET_ID, TAB, 95, 11, 'INVALID: the due date is a holiday');
    bed.sheets.setCell(SPREADSHEET_ID, TAB, 98, 10, true);
    bed.llm.reset();
    const second = await bed.run('--json');
    expect(second.code, second.stderr).toBe(0);
    expect(bed.llm.callCount()).toBe(1);
    const values = bed.values();
    expect(values[94]?.[col(values, 'Validation')]).toBe('INVALID (reviewer)');
    expect(values[97]?.[col(values, 'Recheck')] ?? '').toMatch(/^(FALSE)?$/);
    const summary = JSON.parse(second.stdout) as { rows: { overridden: number; rechecked: number } };
    expect(summary.rows).toMatchObject({ overridden: 1, rechecked: 1 });
  });

  it('skips the write of a row edited after its chunk was read, and writes every other row', async () => {
    const rows = sampleRows(80);
    bed = await startBed({ rows, header: [...HEADER, ...OUTPUT_HEADERS], config: { sheets: FAST_SHEETS, output: { write_batch_size: 500 } } });
    const b = bed;
    let edited = false;
    b.sheets.onRequest((call) => {
      // Once the row range holding row 70 has been read, a person edits row 70's comment.
      // A read of rows: values.get of the first chunk, values.batchGet of the header row and each later chunk.
      const m = rowRangeOf(call);
      if (!edited && m && m[0] > 70) {
        edited = true;
        b.sheets.setCell(SPREADSHEET_ID, TAB, 70, 3, 'Edited by a person after the bot read it.');
      }
    });
    const result = await b.run('--json');
    expect(result.code, result.stderr).toBe(0);
    expect(edited).toBe(true);
    const summary = JSON.parse(result.stdout) as { writes: { skipped: Array<{ row: number }> } };
    expect(summary.writes.skipped.map((s) => s.row)).toEqual([70]);
    const values = b.values();
    expect(values[69]?.[col(values, 'Validation')] ?? '').toBe('');
    expectRightVerdicts(values, rows.map((r, i) => (i === 68 ? null : r)));
  });

  it('reads the second chunk while the first is asked, not once its last answer is in (the workers would stand idle for that read)', async () => {
    const rows = sampleRows(40);
    bed = await startBed({ rows, header: [...HEADER, ...OUTPUT_HEADERS], config: { sheets: FAST_SHEETS, llm: { max_workers: 2 } }, llm: { latencyMs: 60 } });
    const result = await bed.run('--json');
    expect(result.code, result.stderr).toBe(0);
    const reads = rowReads(bed);
    const [first, second] = reads.map((call) => ({ at: call.at, rows: rowRangeOf(call) ?? [0, 0] }));
    expect(first && second, 'two reads of rows at least').toBeTruthy();
    if (!first || !second) return;
    // The chats about the first chunk's rows: sample rows are asked in order, one a request.
    const firstChunkRows = first.rows[1] - 1;
    const chats = bed.llm.requests.filter((r) => r.path.endsWith('/chat/completions'));
    expect(chats.length).toBe(40);
    const lastOfFirstChunk = chats.slice(0, firstChunkRows).reduce((latest, r) => Math.max(latest, r.endedAt ?? Infinity), 0);
    // Two workers at 60 ms a question: the first chunk's answers take several hundred ms, and the second chunk is read at their start.
    expect(second.at).toBeLessThan(chats[1]?.endedAt ?? 0);
    expect(second.at).toBeLessThan(lastOfFirstChunk);
    expectRightVerdicts(bed.values(), rows);
  });

  it("asks the next chunk's questions while a slow answer of the previous chunk is awaited, and a twin of that question waits for its answer instead of paying again", async () => {
    // The slow question (row index 12: the tab's row 14) and its twin in the next chunk (index 20).
    const { rows, slowComment } = slowTwinRows();
    bed = await startBed({
      rows,
      header: [...HEADER, ...OUTPUT_HEADERS],
      config: { sheets: FAST_SHEETS, llm: { max_workers: 3 } },
      llm: {
        latencyMs: 10,
        // Before, every worker waited for the slow answer at the end of its chunk.
        respond: slowResponder(slowComment),
      },
    });
    const result = await bed.run('--json');
    expect(result.code, result.stderr).toBe(0);
    // The run's chunks: the reads of rows that follow each other from the first (each later
    // read starts at the row the previous ended on); the writer's identity reads fall between.
    const chunks: Array<[number, number]> = [];
    for (const range of rowReads(bed).map((call): [number, number] => rowRangeOf(call) ?? [0, 0])) {
      if ((chunks.length === 0 && range[0] === 1) || (chunks.length > 0 && range[0] === chunks.at(-1)?.[1])) chunks.push(range);
    }
    const chunkOf = (index: number) => chunks.findIndex(([from, to]) => from < index + 2 && index + 2 <= to);
    expect({ twin: chunkOf(TWIN) - chunkOf(SLOW) }, `the twin is read in the chunk after the slow question's (chunks: ${JSON.stringify(chunks)})`).toEqual({ twin: 1 });
    const chats = bed.llm.requests.filter((r) => r.path.endsWith('/chat/completions'));
    // Asked once: the twin took the slow question's verdict once it was committed.
    expect(chats).toHaveLength(39);
    const slowEnd = chats.find((r) => r.row?.comment === slowComment)?.endedAt ?? 0;
    const chunkAsked = (comment: unknown) => chunkOf(rows.findIndex((row) => row[2] === comment));
    const nextAskedMeanwhile = chats.filter((r) => r.startedAt < slowEnd && chunkAsked(r.row?.comment) > chunkOf(SLOW));
    expect(nextAskedMeanwhile.length, 'questions of the next chunk asked while the slow answer was awaited').toBeGreaterThan(0);
    const summary = JSON.parse(result.stdout) as { rows: { asked: number; deduplicated: number; deferred: number } };
    expect(summary.rows).toMatchObject({ asked: 40, deduplicated: 1, deferred: 0 });
    expectRightVerdicts(bed.values(), rows);
  });

  it('reads past an empty stretch longer than a chunk to the rows under it', async () => {
    const rows: Array<string[] | null> = [...sampleRows(10), ...Array.from({ length: 200 }, () => null), ...Array.from({ length: 10 }, (_, i) => sampleRow(10 + i))];
    bed = await startBed({ rows: rows.map((r) => r ?? []), header: [...HEADER, ...OUTPUT_HEADERS], rowCount: 400, config: { sheets: FAST_SHEETS } });
    const result = await bed.run('--json');
    expect(result.code, result.stderr).toBe(0);
    expect(rowReads(bed).some((c) => c.status === 200)).toBe(true);
    expect(bed.llm.callCount()).toBe(20);
    expectRightVerdicts(bed.values(), rows);
    const summary = JSON.parse(result.stdout) as { rows: { read: number } };
    expect(summary.rows.read).toBe(20);
  });
});

describe('the processing deadline', () => {
  it('fails one whole-tab read of a big tab with 504 DEADLINE_EXCEEDED, while the streamed run reads it all and puts every verdict on its row', async () => {
    const rows = sampleRows(1500);
    // 20,000 cells a second, a 250 ms deadline: the whole tab (~6,000 cells) takes ~300 ms to process.
    bed = await startBed({ rows, header: [...HEADER, ...OUTPUT_HEADERS], sheets: { readCellsPerSecond: 20_000, deadlineMs: 250, recordBodies: false }, config: { sheets: FAST_SHEETS, llm: { max_workers: 10 } } });
    const client = new SheetsClient({ spreadsheetId: SPREADSHEET_ID, key: { client_email: 'bot@t.iam.gserviceaccount.com', private_key: testPrivateKey() }, apiRoot: bed.sheets.url, readsPerMinute: 60_000, writesPerMinute: 60_000, maxRetries: 1 });
    await expect(client.read(`'${TAB}'`)).rejects.toMatchObject({ status: 504 });
    const result = await bed.run('--json');
    expect(result.code, result.stderr).toBe(0);
    expect(rowReads(bed).every((c) => c.status === 200)).toBe(true);
    expectRightVerdicts(bed.values(), rows);
  }, 120_000);
});
