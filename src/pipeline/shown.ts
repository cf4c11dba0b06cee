import type { Entry, SkippedWrite } from '../sheets/index.js';
import type { SheetCounts } from './summary.js';

type Bucket = Exclude<keyof SheetCounts, 'rows' | 'incomplete'>;

const BUCKETS: Readonly<Record<string, Bucket>> = {
  VALID: 'valid',
  INVALID: 'invalid',
  'NEEDS REVIEW': 'needsReview',
  ERROR: 'error',
  'VALID (REVIEWER)': 'reviewerValid',
  'INVALID (REVIEWER)': 'reviewerInvalid',
  '': 'unchecked',
};

/** Which count a verdict cell falls under: what the bot writes, read as people see it (case and spaces aside). */
export function bucketOf(cell: string): Bucket {
  return BUCKETS[cell.trim().replace(/\s+/g, ' ').toUpperCase()] ?? 'other';
}

export function emptySheetCounts(): SheetCounts {
  return { rows: 0, valid: 0, invalid: 0, needsReview: 0, error: 0, reviewerValid: 0, reviewerInvalid: 0, unchecked: 0, incomplete: 0, other: 0 };
}

interface Change {
  /** Its place in the writer's queue. */
  index: number;
  /** The entry's row when read: the identity its write (and any skip of it) carries. */
  row: number;
  id: string;
  from: Bucket;
  to: Bucket;
}

/**
 * What the sheet shows after the run, without reading it again: the verdict cells as the
 * run read them, changed by the writes that went through. The writer takes its queue in
 * order (a batch that failed goes back to its front; writes stopped drop the rest), so the
 * first `rowsWritten + skipped` writes queued are the ones it got to, and of those the
 * skipped ones left their row as it was.
 */
export class ShownCounts {
  private base: SheetCounts | undefined;
  /** Only the writes that change what a row shows are kept (a rerun rewriting the same verdict keeps none). */
  private readonly changes: Change[] = [];
  private queued = 0;

  /** The verdict cells as read (after a results tab's lines are laid over them). */
  read(entries: readonly Entry[], incomplete: number): void {
    const counts = emptySheetCounts();
    counts.rows = entries.length + incomplete;
    counts.incomplete = incomplete;
    for (const entry of entries) counts[bucketOf(entry.outputs.verdict)]++;
    this.base = counts;
  }

  /** A write queued for this row, showing this verdict once it goes through. */
  queue(entry: Pick<Entry, 'row' | 'id' | 'outputs'>, verdict: string): void {
    const index = this.queued++;
    const from = bucketOf(entry.outputs.verdict);
    const to = bucketOf(verdict);
    if (from !== to) this.changes.push({ index, row: entry.row, id: entry.id, from, to });
  }

  /** The counts after the writes the writer got to; null when the tab was never read. */
  after(written: { rowsWritten: number; skipped: readonly SkippedWrite[] }): SheetCounts | null {
    if (!this.base) return null;
    const counts = { ...this.base };
    // A skipped write names the row where its entry was read (SkippedWrite.row is the
    // PendingWrite's read-time row, whether or not the row moved since): that number is the
    // entry's identity in this run. An id is not: two rows may share one, and the skip of
    // one says nothing of the other's write.
    const skippedRows = new Set(written.skipped.map((s) => s.row));
    const now = new Map<number, Bucket>();
    const reached = written.rowsWritten + written.skipped.length;
    for (const change of this.changes) {
      if (change.index >= reached) break;
      if (skippedRows.has(change.row)) continue;
      const from = now.get(change.row) ?? change.from;
      counts[from]--;
      counts[change.to]++;
      now.set(change.row, change.to);
    }
    return counts;
  }

  /**
   * The rows the writes the writer got to turned INVALID from anything else (issue 22's
   * "newly INVALID"): told by the same rule as `after`, so a skipped or unreached write
   * names no row. The first `keep` are listed, at the row their verdict was written to
   * (`writtenAt`: read-time row → written row, for the rows that moved); all are counted.
   */
  newlyInvalid(written: { rowsWritten: number; skipped: readonly SkippedWrite[] }, keep: number, writtenAt: ReadonlyMap<number, number> = new Map()): { count: number; rows: Array<{ row: number; id: string }> } {
    const skippedRows = new Set(written.skipped.map((s) => s.row));
    const reached = written.rowsWritten + written.skipped.length;
    const rows: Array<{ row: number; id: string }> = [];
    let count = 0;
    for (const change of this.changes) {
      if (change.index >= reached) break;
      // A row that showed INVALID in any form (the reviewer's too) before is not newly INVALID.
      if (skippedRows.has(change.row) || change.to !== 'invalid' || change.from === 'invalid' || change.from === 'reviewerInvalid') continue;
      count++;
      // Named where the writer put the verdict (rows inserted above move it), so the link opens it.
      if (rows.length < keep) rows.push({ row: writtenAt.get(change.row) ?? change.row, id: change.id });
    }
    return { count, rows };
  }
}
