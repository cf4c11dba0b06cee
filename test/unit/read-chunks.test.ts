/**
 * Issue 25, item 1: a tab is read in chunks of rows, each sized from the bytes per row
 * seen so far to answer within Google's recommended 2 MB, its end taken from the grid's
 * rowCount (values.get trims trailing empty rows; a sheet may have long empty stretches).
 * Read through the real googleapis client against the Sheets emulator.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChunkSizer, SheetsClient, lastRowOf, openStreamed, readChunks, valuesBytes, type LayoutConfig } from '../../src/sheets/index.js';
import { HEADER, TAB, testPrivateKey } from '../support/bed.js';
import { startSheetsEmulator, type SheetsEmulator } from '../support/sheets-emulator/index.js';

const CONFIG: LayoutConfig = {
  sheet: TAB,
  headerRow: 1,
  inputs: { id: 'Project', status: 'Status', comment: 'Comment', completion_date: 'Due date' },
  outputs: { verdict: 'Validation', issues: 'Issues', suggestion: 'Suggested rewrite', checked_at: 'Checked at', model: 'Model' },
};

let emu: SheetsEmulator;
beforeAll(async () => {
  emu = await startSheetsEmulator({ recordBodies: false });
});
afterAll(async () => {
  await emu.close();
});

function clientFor(id: string): SheetsClient {
  return new SheetsClient({ spreadsheetId: id, key: { client_email: 'bot@t.iam.gserviceaccount.com', private_key: testPrivateKey() }, apiRoot: emu.url, readsPerMinute: 100_000, writesPerMinute: 100_000 });
}

let sheetNo = 0;
/** A spreadsheet whose tab holds `rows` under the header (null: an empty row), in a grid of `rowCount` rows. */
function seed(rows: Array<string[] | null>, rowCount: number): SheetsClient {
  const id = `chunks-${++sheetNo}`;
  emu.addSpreadsheet(id, [{ title: TAB, rows: [HEADER, ...rows.map((r) => r ?? [])], columnCount: 6, rowCount }]);
  return clientFor(id);
}

describe('ChunkSizer', () => {
  it('starts with the first size, then never asks more than fits the target at the densest rows seen, nor more than twice the last read', () => {
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 5_000_000 }), fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 2_000 })), { maxLength: 30 }), (target, reads) => {
        const sizer = new ChunkSizer(target, 50_000, 500);
        expect(sizer.next()).toBe(500);
        let densest = 0;
        for (const [rowsBack, cellLength] of reads) {
          const asked = sizer.next();
          const values = Array.from({ length: Math.min(rowsBack, asked) }, () => ['x'.repeat(cellLength)]);
          sizer.observe(asked, values);
          if (values.length > 0) densest = Math.max(densest, valuesBytes(values) / values.length);
          const next = sizer.next();
          expect(next).toBeGreaterThanOrEqual(1);
          expect(next).toBeLessThanOrEqual(Math.min(50_000, 2 * asked));
          // Within the target at the densest rows seen, unless one row alone is heavier.
          if (densest > 0) expect(next === 1 || next * densest <= target).toBe(true);
        }
      }),
    );
  });

  it('refuses a target, a maximum or a first size that is not a positive number, naming it', () => {
    expect(() => new ChunkSizer(0)).toThrow(/targetBytes/);
    expect(() => new ChunkSizer(1000, 0)).toThrow(/maxRows/);
    expect(() => new ChunkSizer(1000, 10, 1.5)).toThrow(/first/);
  });
});

describe('lastRowOf', () => {
  it('reads the last row of a range as Sheets echoes it, and never throws on any text', () => {
    expect(lastRowOf("'My tab'!A1:J1000")).toBe(1000);
    expect(lastRowOf('Statuses!A5:Z5')).toBe(5);
    expect(lastRowOf("'Tab!with bang'!C7")).toBe(7);
    expect(lastRowOf('Statuses!A:Z')).toBeUndefined();
    expect(lastRowOf(undefined)).toBeUndefined();
    fc.assert(
      fc.property(fc.string(), (text) => {
        const row = lastRowOf(text);
        expect(row === undefined || (Number.isInteger(row) && row >= 0)).toBe(true);
      }),
    );
  });
});

describe('readChunks', () => {
  it('reads every row of a tab with random row sizes and empty stretches exactly once, in order, each answer within the target', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.constant(null), fc.constant(null), fc.string({ minLength: 1, maxLength: 300 })), { minLength: 0, maxLength: 400 }),
        fc.integer({ min: 0, max: 300 }),
        fc.integer({ min: 400, max: 20_000 }),
        async (comments, trailing, target) => {
          const rows = comments.map((c, i) => (c === null ? null : [`P${i}`, 'Done', c]));
          const client = seed(rows, 1 + rows.length + trailing);
          const got = new Map<number, string[]>();
          let expectedNext = 2;
          let densest = 0;
          for await (const chunk of readChunks(client, TAB, 2, 1 + rows.length + trailing, new ChunkSizer(target, 50_000, 3))) {
            // Within the target, unless its rows are denser than any read before (the sizer adapts after it).
            const bytes = valuesBytes(chunk.values);
            const density = chunk.values.length > 0 ? bytes / chunk.values.length : 0;
            expect(bytes <= target || density > densest || chunk.lastRow === chunk.firstRow).toBe(true);
            densest = Math.max(densest, density);
            // Contiguous, no gap, no overlap: each row is read once.
            expect(chunk.firstRow).toBe(expectedNext);
            expectedNext = chunk.lastRow + 1;
            expect(chunk.values.length).toBeLessThanOrEqual(chunk.lastRow - chunk.firstRow + 1);
            chunk.values.forEach((row, i) => {
              if (row.length > 0) got.set(chunk.firstRow + i, row);
            });
          }
          expect(expectedNext).toBe(2 + rows.length + trailing);
          rows.forEach((row, i) => {
            if (row === null) expect(got.has(i + 2)).toBe(false);
            else expect(got.get(i + 2)).toEqual(row.map((c) => c));
          });
          expect(got.size).toBe(rows.filter((r) => r !== null).length);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('finds the end of the grid from the range Sheets echoes, without asking for the tab\'s size', async () => {
    const rows = Array.from({ length: 45 }, (_, i) => [`P${i}`, 'Done', `row ${i}`]);
    const client = seed([...rows, null, null], 1 + rows.length + 2);
    const before = emu.readCount();
    const chunks = [];
    for await (const chunk of readChunks(client, TAB, 2, undefined, new ChunkSizer(100_000, 50_000, 20))) chunks.push(chunk);
    expect(chunks.map((c) => [c.firstRow, c.lastRow])).toEqual([
      [2, 21],
      [22, 48],
    ]);
    expect(emu.readCount() - before).toBe(2);
  });

  it('goes past an empty stretch longer than a chunk to the rows after it, and stops at the grid\'s last row', async () => {
    const rows: Array<string[] | null> = [['P1', 'Done', 'first'], ...Array.from({ length: 500 }, () => null), ['P2', 'Done', 'after the gap']];
    const client = seed(rows, 1 + rows.length + 50);
    const chunks = [];
    for await (const chunk of readChunks(client, TAB, 2, 1 + rows.length + 50, new ChunkSizer(100, 50_000, 2))) chunks.push(chunk);
    // Several chunks came back empty (the stretch), and the reading went on to the end of the grid.
    expect(chunks.filter((c) => c.values.length === 0).length).toBeGreaterThan(1);
    expect(chunks.at(-1)?.lastRow).toBe(1 + rows.length + 50);
    const found = chunks.flatMap((c) => c.values.map((v, i) => ({ row: c.firstRow + i, v }))).filter((x) => x.v.length > 0);
    expect(found).toEqual([
      { row: 2, v: ['P1', 'Done', 'first'] },
      { row: 503, v: ['P2', 'Done', 'after the gap'] },
    ]);
  });

  it('ends where the grid now ends when rows were deleted while it read', async () => {
    const rows = Array.from({ length: 60 }, (_, i) => [`P${i}`, 'Done', `row ${i}`]);
    const id = `chunks-${++sheetNo}`;
    emu.addSpreadsheet(id, [{ title: TAB, rows: [HEADER, ...rows], columnCount: 6, rowCount: 61 }]);
    const client = clientFor(id);
    const seen: number[] = [];
    for await (const chunk of readChunks(client, TAB, 2, 61, new ChunkSizer(10_000, 10, 10))) {
      chunk.values.forEach((_, i) => seen.push(chunk.firstRow + i));
      // A person deletes the last 25 rows after the first chunk.
      if (seen.length === 10) emu.deleteRows(id, TAB, 37, 25);
    }
    expect(seen).toEqual(Array.from({ length: 35 }, (_, i) => i + 2));
  });
});

describe('readChunks with the header row (a run\'s read)', () => {
  it('reads each row once, in order, when a person inserts rows above between two reads (fewer than a read holds: each read starts at the last row read)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 120 }),
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 0, max: 2 }),
        fc.integer({ min: 300, max: 3_000 }),
        async (count, insertAfter, inserted, target) => {
          const rows = Array.from({ length: count }, (_, i) => [`P${i}`, 'Done', `row ${i} `.repeat(1 + (i % 7))]);
          const id = `chunks-${++sheetNo}`;
          emu.addSpreadsheet(id, [{ title: TAB, rows: [HEADER, ...rows], columnCount: 6, rowCount: 1 + count + 3 }]);
          const client = clientFor(id);
          const seen: string[] = [];
          let reads = 0;
          for await (const chunk of readChunks(client, TAB, 2, undefined, new ChunkSizer(target, 50_000, 2), { headerRow: 1 })) {
            expect(chunk.header).toEqual(HEADER);
            chunk.values.forEach((row) => {
              if (row.length > 0) seen.push(row[0] ?? '');
            });
            // A person inserts rows right under the header while the tab is read (the rows read so far shift down).
            if (++reads === insertAfter && inserted > 0) emu.insertRows(id, TAB, 2, Array.from({ length: inserted }, (_, j) => [`NEW${j}`, 'Done', 'inserted']));
          }
          // Each row of the tab read once, in order; the rows inserted above what was read are not among them.
          expect(seen).toEqual(rows.map((r) => r[0]));
        },
      ),
      { numRuns: 30 },
    );
  });
});

describe('openStreamed', () => {
  it('maps the layout from the header row and turns every chunk into entries at their sheet rows', async () => {
    const rows: Array<string[] | null> = Array.from({ length: 120 }, (_, i) => (i % 7 === 3 ? null : [`P${i}`, 'Done', `comment ${i}`]));
    const client = seed(rows, 400);
    const opened = await openStreamed(client, CONFIG, { targetBytes: 300 });
    expect(opened.layout.inputs.comment).toBe(3);
    const entries = [];
    let chunks = 0;
    for await (const chunk of opened.chunks) {
      chunks++;
      entries.push(...chunk.entries);
    }
    expect(chunks).toBeGreaterThan(3);
    expect(entries.map((e) => [e.row, e.id])).toEqual(rows.flatMap((r, i) => (r === null ? [] : [[i + 2, r[0]]])));
  });

  it('says which tabs exist when the configured one does not', async () => {
    const client = seed([], 10);
    await expect(openStreamed(client, { ...CONFIG, sheet: 'Nope' })).rejects.toThrow(/no tab named "Nope"/);
  });
});
