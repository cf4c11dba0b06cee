/**
 * Issue 4, item 6: the Sheets API fails on reads and on writes (429 RESOURCE_EXHAUSTED,
 * 500, 503), the tab or the spreadsheet does not exist, or the service account has no
 * permission. Nothing is lost, and every failure says what to fix.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { col, HEADER, OUTPUT_HEADERS, SPREADSHEET_ID, startBed, type Bed } from '../support/bed.js';
import { cachedVerdicts, expectedCells } from '../support/inspect.js';
import type { Fault, FaultOptions, PendingCall } from '../support/sheets-emulator/index.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

const EMAIL = 'bot@status-validator-test.iam.gserviceaccount.com';
const cacheOf = (b: Bed) => String((b.config.cache as { path: string }).path);

/** A bed whose tab already has the output headers, so every write is a verdict write. */
function sheetBed(rows: string[][], config: Record<string, unknown> = {}): Promise<Bed> {
  return startBed({
    rows,
    header: [...HEADER, ...OUTPUT_HEADERS],
    config: { output: { write_batch_size: 4 }, sheets: { read_quota_per_minute: 6000, write_quota_per_minute: 6000 }, ...config },
  });
}

/** Every row shows the verdict computed for its own inputs. */
function expectAllVerdicts(b: Bed, rows: string[][]): void {
  const values = b.values();
  rows.forEach((row, i) => {
    const cells = values[i + 1] ?? [];
    expect({ verdict: cells[col(values, 'Validation')], suggestion: cells[col(values, 'Suggested rewrite')] }, `row ${i + 2}`).toEqual(expectedCells(row));
  });
}

type Where = [string, (b: Bed) => FaultOptions];
const WHERE: Where[] = [
  ['the first read of the tab', (b) => ({ kind: 'read', match: () => b.sheets.writeCount() === 0 })],
  ['a re-read before a write', (b) => ({ kind: 'read', match: () => b.sheets.writeCount() > 0 })],
  ['a write', () => ({ kind: 'write' })],
];
/** What is injected, and the status the emulator records for it (0: the connection was dropped). */
const FAULTS: Array<[string, Fault, number]> = [
  ['a 429 RESOURCE_EXHAUSTED', { status: 429 }, 429],
  ['a 500', { status: 500 }, 500],
  ['a 503', { status: 503 }, 503],
  ['a dropped connection', { status: 503, destroySocket: true }, 0],
];
const CASES = FAULTS.flatMap(([name, fault, recorded]) => WHERE.map(([where, options]) => [name, where, fault, recorded, options] as const));

describe('transient Sheets failures', () => {
  it.each(CASES)('retries %s on %s and loses nothing', async (_name, _where, fault, recorded, options) => {
    const rows = sampleRows(12);
    bed = await sheetBed(rows);
    const b = bed;
    b.sheets.injectFault(fault, { ...options(b), times: 2 });
    const result = await b.run('--json');
    expect(result.code, result.stderr).toBe(0);
    const failed = b.sheets.calls.filter((c) => c.status === recorded);
    expect(failed).toHaveLength(2);
    expect(b.sheets.pendingFaults()).toBe(0);
    expectAllVerdicts(b, rows);
    expect(cachedVerdicts(cacheOf(b))).toHaveLength(12);
    const summary = JSON.parse(result.stdout) as { writes: { sheetRetries: number; rowsWritten: number } };
    expect(summary.writes.sheetRetries).toBe(2);
    expect(summary.writes.rowsWritten).toBe(12);
  });

  it('waits as long as Sheets asks in Retry-After before trying again', async () => {
    bed = await sheetBed(sampleRows(2));
    const b = bed;
    b.sheets.injectFault({ status: 503, headers: { 'retry-after': '2' } }, { kind: 'read', times: 1 });
    const result = await b.run();
    expect(result.code).toBe(0);
    const [refused, retried] = b.sheets.calls.filter((c) => c.kind === 'read');
    expect(refused?.status).toBe(503);
    // Without the header the first retry would come within 0.5 s (full-jitter backoff).
    expect((retried?.at ?? 0) - (refused?.at ?? 0)).toBeGreaterThanOrEqual(1_900);
  });
});

describe('Sheets failures that last', () => {
  it(
    'stops with "Sheets quota exhausted" when writes keep answering 429, and the next run writes every verdict from the cache without asking the model',
    { timeout: 60_000 },
    async () => {
      const rows = sampleRows(8);
      bed = await sheetBed(rows);
      const b = bed;
      // retry-after 0: the client's retries need not wait (the test would otherwise sit through the backoff).
      b.sheets.injectFault({ status: 429, headers: { 'retry-after': '0' } }, { kind: 'write', times: Infinity });
      const first = await b.run();
      expect(first.code).toBe(1);
      expect(first.stderr).toMatch(/Sheets quota exhausted while trying to write/);
      expect(first.stderr).toMatch(/nothing was lost/);
      expect(b.values().slice(1).every((r) => (r[col(b.values(), 'Validation')] ?? '') === '')).toBe(true);
      expect(cachedVerdicts(cacheOf(b))).toHaveLength(8);

      b.sheets.clearFaults();
      const calls = b.llm.callCount();
      const second = await b.run();
      expect(second.code).toBe(0);
      expect(b.llm.callCount()).toBe(calls);
      expectAllVerdicts(b, rows);
    },
  );

  it('names the tab it looked for and lists the tabs that exist when the tab does not exist', async () => {
    bed = await sheetBed(sampleRows(3), { sheets: { sheet: 'Status', read_quota_per_minute: 6000, write_quota_per_minute: 6000 } });
    const b = bed;
    const result = await b.run();
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/['"]Status['"]/);
    // README (Troubleshooting): '… has no tab named "…". Its tabs: …'
    expect(result.stderr).toMatch(/Its tabs: "Statuses"/);
    expect(result.stderr).toMatch(/Fix: .*sheets\.sheet/);
    expect(b.llm.callCount()).toBe(0);
    expect(b.sheets.writeCount()).toBe(0);
  });

  it('says the spreadsheet was not found, names it and how to find its id, without asking the model', async () => {
    bed = await sheetBed(sampleRows(3), { sheets: { spreadsheet_id: 'no-such-spreadsheet', read_quota_per_minute: 6000, write_quota_per_minute: 6000 } });
    const b = bed;
    const result = await b.run();
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/spreadsheet no-such-spreadsheet was not found.*\(404\)/);
    expect(result.stderr).toMatch(/Fix: .*sheets\.spreadsheet_id.*\/d\/ and \/edit/);
    expect(b.llm.callCount()).toBe(0);
    expect(b.sheets.writeCount()).toBe(0);
  });

  it('names the spreadsheet and the service account to share it with when it is shared read-only, before paying for any answer', async () => {
    // No output headers yet: adding them is the first write, and it is refused.
    bed = await startBed({ rows: sampleRows(5) });
    const b = bed;
    const readOnly = (c: PendingCall) => c.kind === 'write';
    b.sheets.injectFault({ status: 403, message: 'The caller does not have permission' }, { times: Infinity, match: readOnly });
    const result = await b.run();
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(SPREADSHEET_ID);
    expect(result.stderr).toMatch(new RegExp(`Fix: Share the spreadsheet with ${EMAIL.replace(/\./g, '\\.')} as an Editor`));
    expect(b.llm.callCount()).toBe(0);
  });

  it('keeps every answer when the verdict writes are refused (403), and writes them all on the next run without asking again', async () => {
    const rows = sampleRows(6);
    bed = await sheetBed(rows);
    const b = bed;
    b.sheets.injectFault({ status: 403, message: 'The caller does not have permission' }, { kind: 'write', times: Infinity });
    const first = await b.run();
    expect(first.code).toBe(1);
    expect(first.stderr).toContain(SPREADSHEET_ID);
    expect(first.stderr).toContain(EMAIL);
    expect(cachedVerdicts(cacheOf(b))).toHaveLength(6);

    b.sheets.clearFaults();
    const calls = b.llm.callCount();
    expect((await b.run()).code).toBe(0);
    expect(b.llm.callCount()).toBe(calls);
    expectAllVerdicts(b, rows);
  });
});
