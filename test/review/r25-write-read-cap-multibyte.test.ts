/**
 * DEFECT (issue 25 item 1, src/sheets/locate.ts cellBytes → BatchSizer.measuredRead in
 * src/sheets/write-size.ts): the identity read before a write is sized to "about
 * MAX_READ_BYTES_PER_CALL (2,000,000 bytes) at most" (write-size.ts, "…and the identity
 * read before it brings about this much at most"), learned from what earlier reads
 * brought. But what a read brought is counted in UTF-16 code units (`cell.length`), not in
 * bytes: a cell of Chinese, Japanese or Korean text weighs three UTF-8 bytes per code unit
 * in the JSON answer (emoji: four bytes per two units). On a tab whose rows carry such text
 * in columns the bot does not write (the identity read brings whole rows; the write body
 * only the verdict), the writer learns a third of the real size and its identity reads
 * answer nearly three times the cap: 5.4 MB measured instead of 2 MB. (The brief: "bytes vs UTF-16
 * length!"; the existing e2e test large-writes.test.ts uses mostly-ASCII cells, so it
 * cannot see it.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_QUOTAS, HEADER, OUTPUT_HEADERS, startBed, TAB, TWO_MB, type Bed } from '../support/bed.js';
import { waitFor } from '../support/inspect.js';
import type { RecordedCall } from '../support/sheets-emulator/index.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

/** About 3,000 characters of Japanese: 9,000 bytes of UTF-8. */
const NOTES = '進捗は順調です。来週までに設計レビューを完了させる予定。'.repeat(110);

function rowsCovered(range: string): number {
  const match = /!\$?[A-Z]*(\d+):\$?[A-Z]*(\d+)$/.exec(range);
  if (!match) return 0;
  const first = Number(match[1]);
  return first <= 1 ? 0 : Number(match[2]) - first + 1;
}

const identityReads = (calls: readonly RecordedCall[]) => calls.filter((c) => (c.op === 'values.batchGet' || c.op === 'values.batchGetByDataFilter') && (c.ranges ?? []).some((r) => r.startsWith(`'${TAB}'!`) && rowsCovered(r) > 0));

/** Holds the first verdict write until every answer is in (a slow Sheets): rows pile up and go out in byte-sized batches (as large-writes.test.ts does). */
function holdFirstWrite(b: Bed, answers: number): void {
  let held = false;
  b.sheets.onRequest(async (call) => {
    if (held || call.op !== 'values.batchUpdate' || !(call.ranges ?? []).some((r) => /!E\d+:I\d+$/.test(r))) return;
    held = true;
    await waitFor(`${answers} answers`, () => b.llm.callCount() >= answers, 60_000);
    await new Promise((resolve) => setTimeout(resolve, 1500));
  });
}

describe('identity reads of rows holding multibyte text', () => {
  it('answer about 2 MB at most, counted in bytes as Google sends them', async () => {
    const rows = sampleRows(1000).map(([id = '', status = '', comment = '', due = '']) => [id, status, comment, due, '', '', '', '', '', NOTES]);
    bed = await startBed({ rows, header: [...HEADER, ...OUTPUT_HEADERS, 'Notes'], llm: { latencyMs: 1 }, config: { llm: { max_workers: 20 }, sheets: DEFAULT_QUOTAS } });
    holdFirstWrite(bed, rows.length);
    const result = await bed.run('--json');
    expect(result.code, result.stderr).toBe(0);
    const rowBytes = Buffer.byteLength(JSON.stringify(NOTES));
    const reads = identityReads(bed.sheets.calls);
    expect(reads.length).toBeGreaterThan(0);
    const largest = Math.max(...reads.map((read) => (read.ranges ?? []).reduce((n, r) => n + rowsCovered(r), 0) * rowBytes));
    // The notes alone (the ids, statuses, comments and verdicts come on top).
    expect(largest).toBeLessThanOrEqual(1.1 * TWO_MB);
  }, 90_000);
});
