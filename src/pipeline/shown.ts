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

const BUCKET_LIST: readonly Bucket[] = ['valid', 'invalid', 'needsReview', 'error', 'reviewerValid', 'reviewerInvalid', 'unchecked', 'other'];
const BUCKET_CODE = new Map(BUCKET_LIST.map((b, i) => [b, i] as const));
const bucketAt = (code: number): Bucket => BUCKET_LIST[code] ?? 'other';

/** How many newly INVALID changes keep their row's id (a summary lists 100; a skipped write may drop one of them). */
const IDS_KEPT = 1_000;

/**
 * The writes that change what a row shows, in queue order, packed: 10 bytes each (a
 * million-row cold run changes every row: ~10 MB, where an object apiece cost ~100).
 * Ids are kept only for the first newly INVALID ones, which a summary names.
 */
class Changes {
  index = new Uint32Array(1024);
  row = new Uint32Array(1024);
  from = new Uint8Array(1024);
  to = new Uint8Array(1024);
  length = 0;
  readonly ids = new Map<number, string>();
  private newlyInvalid = 0;

  push(index: number, row: number, id: string, from: Bucket, to: Bucket): void {
    if (this.length === this.index.length) this.grow();
    const at = this.length++;
    this.index[at] = index;
    this.row[at] = row;
    this.from[at] = BUCKET_CODE.get(from) ?? 7;
    this.to[at] = BUCKET_CODE.get(to) ?? 7;
    if (isNewlyInvalid(from, to) && this.newlyInvalid++ < IDS_KEPT) this.ids.set(at, id);
  }

  private grow(): void {
    const size = this.index.length * 2;
    const widen = <T extends Uint32Array | Uint8Array>(old: T, make: (n: number) => T): T => {
      const next = make(size);
      next.set(old);
      return next;
    };
    this.index = widen(this.index, (n) => new Uint32Array(n));
    this.row = widen(this.row, (n) => new Uint32Array(n));
    this.from = widen(this.from, (n) => new Uint8Array(n));
    this.to = widen(this.to, (n) => new Uint8Array(n));
  }
}

/** A row that showed INVALID in any form (the reviewer's too) before is not newly INVALID. */
function isNewlyInvalid(from: Bucket, to: Bucket): boolean {
  return to === 'invalid' && from !== 'invalid' && from !== 'reviewerInvalid';
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
  private readonly changes = new Changes();
  private queued = 0;

  /** The verdict cells as read (after a results tab's lines are laid over them); a streamed read tells each chunk. */
  read(entries: readonly Entry[], incomplete: number): void {
    const counts = (this.base ??= emptySheetCounts());
    counts.rows += entries.length + incomplete;
    counts.incomplete += incomplete;
    for (const entry of entries) counts[bucketOf(entry.outputs.verdict)]++;
  }

  /** A write queued for this row, showing this verdict once it goes through. */
  queue(entry: Pick<Entry, 'row' | 'id' | 'outputs'>, verdict: string): void {
    const index = this.queued++;
    const from = bucketOf(entry.outputs.verdict);
    const to = bucketOf(verdict);
    if (from !== to) this.changes.push(index, entry.row, entry.id, from, to);
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
    const reached = written.rowsWritten + written.skipped.length;
    const c = this.changes;
    // A row changed twice (a streamed read that met it twice) counts from what the first change made it:
    // those rows are found with two bitsets first, so that only they are kept in a map, not every row.
    const twice = this.changedTwice(reached);
    const now = new Map<number, Bucket>();
    for (let i = 0; i < c.length; i++) {
      if ((c.index[i] ?? 0) >= reached) break;
      const row = c.row[i] ?? 0;
      if (skippedRows.has(row)) continue;
      const to = bucketAt(c.to[i] ?? 7);
      const from = now.get(row) ?? bucketAt(c.from[i] ?? 7);
      counts[from]--;
      counts[to]++;
      if (has(twice, row)) now.set(row, to);
    }
    return counts;
  }

  /** The rows with more than one change among the first `reached` writes, as a bitset by row number. */
  private changedTwice(reached: number): Uint8Array {
    const c = this.changes;
    let top = 0;
    for (let i = 0; i < c.length; i++) top = Math.max(top, c.row[i] ?? 0);
    const seen = new Uint8Array((top >> 3) + 1);
    const twice = new Uint8Array((top >> 3) + 1);
    for (let i = 0; i < c.length && (c.index[i] ?? 0) < reached; i++) {
      const row = c.row[i] ?? 0;
      if (has(seen, row)) twice[row >> 3] = (twice[row >> 3] ?? 0) | (1 << (row & 7));
      seen[row >> 3] = (seen[row >> 3] ?? 0) | (1 << (row & 7));
    }
    return twice;
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
    const c = this.changes;
    for (let i = 0; i < c.length; i++) {
      if ((c.index[i] ?? 0) >= reached) break;
      const row = c.row[i] ?? 0;
      if (skippedRows.has(row) || !isNewlyInvalid(bucketAt(c.from[i] ?? 7), bucketAt(c.to[i] ?? 7))) continue;
      count++;
      // Named where the writer put the verdict (rows inserted above move it), so the link opens it.
      const id = c.ids.get(i);
      if (rows.length < keep && id !== undefined) rows.push({ row: writtenAt.get(row) ?? row, id });
    }
    return { count, rows };
  }
}

const has = (bits: Uint8Array, row: number): boolean => ((bits[row >> 3] ?? 0) & (1 << (row & 7))) !== 0;
