import { Mutex } from 'async-mutex';
import { pushTo } from '../collections.js';
import { sleep } from '../retry/index.js';
import { a1Range, wholeSheet } from './a1.js';
import type { CellValues, SheetsClient, ValueRange } from './client.js';
import { outputSegments, type Layout, type OutputField } from './layout.js';
import { rowFingerprint } from './table.js';

export interface PendingWrite {
  /** Where the row was when read, and what it held (id + inputs). */
  row: number;
  id: string;
  fingerprint: string;
  cells: Record<OutputField, string>;
  /** Untick the row's recheck box in the same write. */
  clearRecheck?: boolean;
}

export interface SkippedWrite {
  row: number;
  id: string;
  reason: string;
}

export interface WriterStats {
  writeCalls: number;
  verifyReads: number;
  rowsWritten: number;
  /** Rows found at another position than when read (sorted, inserted above) and written there. */
  rowsMoved: number;
  skipped: SkippedWrite[];
  /** Largest number of rows in one write call. */
  largestBatch: number;
}

/**
 * Where verdicts go. The writer re-identifies the data rows; the target turns the
 * placed writes into value ranges. `ranges()` are read in the same call as the
 * identity check (a results tab's id column), and handed to `build()`.
 */
export interface WriteTarget {
  ranges(): string[];
  build(placed: readonly PendingWrite[], read: readonly CellValues[]): Promise<ValueRange[]>;
}

/** The default target: the output columns of the data rows themselves. */
export class InPlaceTarget implements WriteTarget {
  constructor(private readonly layout: Layout) {}

  ranges(): string[] {
    return [];
  }

  build(placed: readonly PendingWrite[]): Promise<ValueRange[]> {
    const data: ValueRange[] = [];
    const recheck = this.layout.review.recheck;
    for (const write of placed) {
      for (const segment of outputSegments(this.layout)) {
        data.push({
          range: a1Range(this.layout.sheet, { row: write.row, column: segment.first }, { row: write.row, column: segment.first + segment.fields.length - 1 }),
          values: [segment.fields.map((field) => write.cells[field])],
        });
      }
      // A JSON false written RAW is the boolean a checkbox holds, not the text "FALSE".
      if (write.clearRecheck && recheck !== undefined) data.push({ range: a1Range(this.layout.sheet, { row: write.row, column: recheck }), values: [[false]] });
    }
    return Promise.resolve(data);
  }
}

export interface WriterOptions {
  /** Where the verdicts go; the data rows' own output columns by default. */
  target?: WriteTarget;
  batchSize: number;
  signal?: AbortSignal;
  onFlush?: (stats: Readonly<WriterStats>) => void;
}

/** Above this many rows between the first and last row of a flush, re-read rows one range each. */
const SPARSE_SPAN = 2000;

/**
 * Writes verdicts back in batches, never to the wrong row (invariant 1): before each
 * write call the target rows are re-read and compared with the identity (id + inputs)
 * they had when read. A row found elsewhere (sorted, rows inserted above) is written
 * where it is now; a row that vanished or was edited is skipped and left for the next
 * run, which will see it changed.
 *
 * Batching: a flush starts once `batchSize` rows are pending. When the write quota
 * makes it wait, everything that arrived meanwhile goes out in the same call
 * (coalescing) rather than queueing up small calls behind the quota.
 */
export class SheetWriter {
  readonly stats: WriterStats = { writeCalls: 0, verifyReads: 0, rowsWritten: 0, rowsMoved: 0, skipped: [], largestBatch: 0 };
  private pending: PendingWrite[] = [];
  private readonly flushing = new Mutex();
  private running: Promise<void> | undefined;
  private readonly target: WriteTarget;
  private closing = false;
  /** Where each identity was found by the last full read: later writes start from there. */
  private moved: Map<string, number[]> | undefined;
  private failure: Error | undefined;

  constructor(
    private readonly client: SheetsClient,
    private readonly layout: Layout,
    private readonly options: WriterOptions,
  ) {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) throw new RangeError(`batchSize must be a whole number ≥ 1, got ${options.batchSize}`);
    this.target = options.target ?? new InPlaceTarget(layout);
  }

  /** The error that stopped writing, if any; verdicts stay in the cache for the next run. */
  get error(): Error | undefined {
    return this.failure;
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  enqueue(write: PendingWrite): void {
    const now = this.moved?.get(write.fingerprint);
    if (now?.length === 1 && now[0] !== undefined) write.row = now[0];
    this.pending.push(write);
    if (this.pending.length >= this.options.batchSize) this.kick();
  }

  /**
   * Starts the flush loop unless it is already running: answers arriving while it waits
   * for the quota join its next batch instead of queueing one more waiter each (a run of
   * 100,000 fast answers would otherwise pile up 100,000 of them).
   */
  private kick(): void {
    if (this.running) return;
    this.running = this.pump()
      .catch((error: unknown) => {
        this.failure ??= error instanceof Error ? error : new Error(String(error));
      })
      .finally(() => {
        this.running = undefined;
        // Rows that arrived as the loop was ending.
        if (this.failure === undefined && this.pending.length >= this.options.batchSize) this.kick();
      });
  }

  /** Writes everything still pending and waits for it. Rethrows a write failure. */
  async close(): Promise<void> {
    this.closing = true;
    await this.running;
    await this.pump();
    if (this.failure !== undefined) throw this.failure;
  }

  private async pump(): Promise<void> {
    await this.flushing.runExclusive(async () => {
      while (this.failure === undefined && (this.pending.length >= this.options.batchSize || (this.closing && this.pending.length > 0))) {
        const waited = await this.waitForSlots();
        // Rows that piled up while the quota made us wait go out together (coalescing).
        const take = waited ? this.pending.length : Math.min(this.options.batchSize, this.pending.length);
        const batch = this.pending.splice(0, take);
        try {
          await this.flush(batch);
        } catch (error) {
          this.pending.unshift(...batch);
          this.failure = error instanceof Error ? error : new Error(String(error));
        }
      }
    });
  }

  /**
   * Sleeps until a verify read and a write may go. Regular flushes leave one slot of
   * each quota in reserve, so that the final flush after the last answer goes out at
   * once instead of waiting for the next slot. True when it had to wait.
   */
  private async waitForSlots(): Promise<boolean> {
    let waited = false;
    for (;;) {
      const reserve = this.closing ? 0 : 1;
      const wait = Math.max(this.client.writes.delay(reserve), this.client.reads.delay(reserve));
      if (wait <= 0) return waited;
      waited = true;
      // Short naps: close() may lift the reserve while this flush is waiting.
      await sleep(Math.min(wait, 50), this.options.signal);
    }
  }

  private async flush(batch: PendingWrite[]): Promise<void> {
    const { placed, extra } = await this.locate(batch);
    const data = placed.length > 0 ? await this.target.build(placed, extra) : [];
    if (data.length > 0) {
      await this.client.write(data);
      this.stats.writeCalls++;
      this.stats.rowsWritten += placed.length;
      this.stats.largestBatch = Math.max(this.stats.largestBatch, placed.length);
    }
    this.options.onFlush?.(this.stats);
  }

  /**
   * Re-identifies the rows of a batch (one read call, which also reads the target's
   * ranges); returns the writes with their current row numbers, and the target's reads.
   */
  private async locate(batch: PendingWrite[]): Promise<{ placed: PendingWrite[]; extra: CellValues[] }> {
    const { first, last } = this.layout.identitySpan;
    const rows = batch.map((w) => w.row);
    const low = Math.min(...rows);
    const high = Math.max(...rows);
    const dense = high - low <= SPARSE_SPAN || batch.length > 100;
    const own = dense
      ? [a1Range(this.layout.sheet, { row: low, column: first }, { row: high, column: last })]
      : rows.map((row) => a1Range(this.layout.sheet, { row, column: first }, { row, column: last }));
    const results = await this.client.readMany([...own, ...this.target.ranges()]);
    const extra = results.slice(own.length);
    let current: (row: number) => readonly string[];
    if (dense) {
      const values = results[0] ?? [];
      current = (row) => values[row - low] ?? [];
    } else {
      const byRow = new Map(rows.map((row, i) => [row, results[i]?.[0] ?? []]));
      current = (row) => byRow.get(row) ?? [];
    }
    this.stats.verifyReads++;

    const confirmed: PendingWrite[] = [];
    const lost: PendingWrite[] = [];
    for (const write of batch) {
      if (rowFingerprint(current(write.row), this.layout, first) === write.fingerprint) confirmed.push(write);
      else lost.push(write);
    }
    if (lost.length === 0) return { placed: confirmed, extra };
    return { placed: [...confirmed, ...(await this.relocate(lost, new Set(confirmed.map((w) => w.row))))], extra };
  }

  /**
   * Some rows are not where they were: read the whole tab once, find each by its
   * identity, and fix the positions of every pending write while the map is at hand.
   */
  private async relocate(lost: PendingWrite[], taken: Set<number>): Promise<PendingWrite[]> {
    const values: CellValues = await this.client.read(wholeSheet(this.layout.sheet));
    this.stats.verifyReads++;
    const where = new Map<string, number[]>();
    for (let index = this.layout.headerRow; index < values.length; index++) {
      pushTo(where, rowFingerprint(values[index] ?? [], this.layout), index + 1);
    }
    this.moved = where;
    for (const write of this.pending) {
      const found = where.get(write.fingerprint);
      if (found?.length === 1 && found[0] !== undefined) write.row = found[0];
    }
    const placed: PendingWrite[] = [];
    for (const write of lost) {
      const found = (where.get(write.fingerprint) ?? []).filter((row) => !taken.has(row));
      if (found.length === 1 && found[0] !== undefined) {
        this.stats.rowsMoved++;
        placed.push({ ...write, row: found[0] });
        taken.add(found[0]);
      } else {
        const reason =
          found.length === 0
            ? 'the row was edited or deleted during the run; it will be checked again on the next run'
            : `${found.length} rows now have the same id and inputs; not guessing which one, will retry on the next run`;
        this.stats.skipped.push({ row: write.row, id: write.id, reason });
      }
    }
    return placed;
  }
}
