/**
 * Issue 25 item 1: before any identity read was measured, a batch holds FIRST_READ_ROWS
 * rows at most, however many piled up (coalescing after a wait): its read is sized by a
 * guess, and rows with long text in columns the bot does not write would make it answer
 * several times the 2 MB cap. Once a read was measured, the batches follow the measure.
 */
import { describe, expect, it } from 'vitest';
import { BatchSizer, FIRST_READ_ROWS, MAX_BYTES_PER_CALL, MAX_READ_BYTES_PER_CALL, queued } from '../../src/sheets/write-size.js';
import { cellBytes } from '../../src/sheets/locate.js';

const write = (row: number) => queued({ row, id: `PRJ-${row}`, fingerprint: `f${row}`, cells: { verdict: 'VALID', issues: '', suggestion: '', checked_at: '2026-12-01', model: 'm' } });

describe('BatchSizer before and after the first identity read', () => {
  it('caps the first batch, then sizes batches by the bytes per row measured', () => {
    const sizer = new BatchSizer(MAX_BYTES_PER_CALL, MAX_READ_BYTES_PER_CALL);
    const pending = Array.from({ length: 2000 }, (_, i) => write(i + 2));
    expect(sizer.count(pending, Infinity)).toBe(FIRST_READ_ROWS);
    // Rows of 9 KB (3,000 Japanese characters): about 200 fit the read cap.
    sizer.measuredRead(FIRST_READ_ROWS * 9_300, FIRST_READ_ROWS);
    const next = sizer.count(pending, Infinity);
    expect(next * 9_300).toBeLessThanOrEqual(MAX_READ_BYTES_PER_CALL);
    expect(next).toBeGreaterThan(FIRST_READ_ROWS);
    // Light rows: far more than the first cap.
    const light = new BatchSizer(MAX_BYTES_PER_CALL, MAX_READ_BYTES_PER_CALL);
    light.measuredRead(10 * 200, 10);
    expect(light.count(pending, Infinity)).toBeGreaterThan(FIRST_READ_ROWS);
  });

  it('counts a cell in UTF-8 bytes, as Google sends it', () => {
    expect(cellBytes(['abc'])).toBe(2 + 3 + 3);
    expect(cellBytes(['進捗'])).toBe(2 + 6 + 3);
    expect(cellBytes(['😀'])).toBe(2 + 4 + 3);
  });
});
