import { Mutex } from 'async-mutex';
import { sleep } from '../retry/index.js';
import type { CellValues, SheetsClient, ValueRange } from './client.js';
import { InPlaceTarget } from './in-place.js';
import type { Columns, Layout, LostHeader, OutputField } from './layout.js';
import { locate, type Located } from './locate.js';
import { BatchSizer, MAX_BYTES_PER_CALL, identityReadBytes, queued, type Queued } from './write-size.js';
import { addMissingHeaders } from './open.js';

export interface PendingWrite {
  /** Where the row was when read (or where an earlier write found it moved), and what it held (id + inputs). */
  row: number;
  /** Where the row was when read, once `row` follows a move: a skip names the entry by it. */
  readRow?: number;
  id: string;
  fingerprint: string;
  cells: Record<OutputField, string>;
  /** Untick the row's recheck box in the same write. */
  clearRecheck?: boolean;
}

export interface SkippedWrite {
  /** Where the entry was when read (its identity in the run), not where the row may have moved. */
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
  /** Set when a header the bot needs vanished: nothing more was written to its tab. */
  stopped: LostHeader | undefined;
  /** Rows whose verdict was not written because writes stopped (it stays in the cache). */
  rowsNotWritten: number;
  /** The output and reviewer headers added to the data tab before the first write. */
  headersAdded: string[];
  /** Where each written entry's verdict went, by the row it was read at, for those written elsewhere (rows moved): a link must open the row where the verdict is. */
  writtenAt: Map<number, number>;
}

/**
 * Where verdicts go. The writer re-identifies the data rows; the target turns the
 * placed writes into value ranges. `ranges()` are read in the same call as the
 * identity check (a results tab's header and id column) and handed to `build()`, with
 * the data tab's columns as found in that call.
 */
export interface WriteTarget {
  ranges(): string[];
  build(placed: readonly PendingWrite[], read: readonly CellValues[], columns: Columns): Promise<Built | { lost: LostHeader }>;
  /** Runs one write attempt (read, build, write) in turn with the process's other writers to the same place, when they could collide. */
  exclusive?<T>(work: () => Promise<T>): Promise<T>;
  /** Makes what the first write needs (a tab, its headers): called once, right before the first write attempt. */
  prepare?(): Promise<void>;
  /** True while prepare() has something to make. */
  readonly unmade?: boolean;
  /** True while no verdict can show there: what holds them is still to make. */
  readonly blank?: boolean;
}

/** What one write attempt sends: new lines appended first (see ResultsTab), then the ranges written in place. */
export interface Built {
  data: ValueRange[];
  /** Rows to add after the last row of the tab's table, where Sheets finds it (values.append, INSERT_ROWS). */
  append?: { range: string; rows: string[][] };
}

export interface WriterOptions {
  /** Where the verdicts go; the data rows' own output columns by default. */
  target?: WriteTarget;
  batchSize: number;
  /** Largest write request body, in bytes (MAX_BYTES_PER_CALL by default; tests lower it). */
  maxBodyBytes?: number;
  /** Largest identity read answer, about, in bytes (identityReadBytes(): MAX_READ_BYTES_PER_CALL by default). */
  maxReadBytes?: number;
  signal?: AbortSignal;
  onFlush?: (stats: Readonly<WriterStats>) => void;
  /**
   * Runs once, when close() has written everything (`wrote`: whether the run wrote, or
   * tried to): the look of the columns (output.format, column-look.ts) comes after the
   * verdicts, never before or between them. It must not throw; what it fails at is its
   * own warning, never a lost verdict.
   */
  afterWrites?: (wrote: boolean) => Promise<void>;
}


/**
 * Writes verdicts back in batches, never to a wrong cell (invariant 1): before each
 * write attempt — first try and every retry — the header row and the rows are re-read
 * in one call (locate.ts); outputs go where their headers are now and rows where they
 * are now; a row that vanished or was edited is skipped and left for the next run; a
 * header that vanished stops writes to the tab for the rest of the run.
 *
 * Batching: a flush starts once `batchSize` rows are pending. When the write quota
 * makes it wait, what arrived meanwhile goes out in the same call
 * (coalescing), sized by bytes, not rows: a request body of at most `maxBodyBytes`,
 * measured exactly as sent, and an identity read of about as much at most.
 */
export class SheetWriter {
  readonly stats: WriterStats = { writeCalls: 0, verifyReads: 0, rowsWritten: 0, rowsMoved: 0, skipped: [], largestBatch: 0, stopped: undefined, rowsNotWritten: 0, headersAdded: [], writtenAt: new Map() };
  private pending: Queued[] = [];
  private readonly flushing = new Mutex();
  private running: Promise<void> | undefined;
  private readonly target: WriteTarget;
  private closing = false;
  /** Where each identity was found by the last whole-tab read: later writes start from there. */
  private moved: Map<string, number[]> | undefined;
  private failure: Error | undefined;
  /** Ends the nap of a flush waiting for the quota's slots (close() lifts the reserve it waits for). */
  private wake: (() => void) | undefined;
  /** The headers and tabs the writes need, made once, before the first of them. */
  private prepared: Promise<void> | undefined;
  /** How many rows fit a write call and its identity read (write-size.ts). */
  private readonly sizer: BatchSizer;
  /** The write check to pass before the first write that makes something (checkBeforeMaking). */
  private check: (() => Promise<void>) | undefined;

  constructor(
    private readonly client: SheetsClient,
    private readonly layout: Layout,
    private readonly options: WriterOptions,
  ) {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) throw new RangeError(`batchSize must be a whole number ≥ 1, got ${options.batchSize}`);
    this.sizer = new BatchSizer(options.maxBodyBytes ?? MAX_BYTES_PER_CALL, options.maxReadBytes ?? identityReadBytes());
    this.target = options.target ?? new InPlaceTarget(layout);
  }

  /** The error that stopped writing, if any; verdicts stay in the cache for the next run. */
  get error(): Error | undefined {
    return this.failure;
  }

  /** Whether the first write must make something first (output headers, a results tab): a tab the bot has not written to yet. */
  get firstWriteMakes(): boolean {
    return this.prepared === undefined && (this.layout.missingHeaders.length > 0 || this.target.unmade === true);
  }

  /**
   * Whether no verdict can show on the tab yet: its verdict column (or the results tab, or
   * its verdict column) is still to make. Every row a run reads there is then asked or has
   * its cached verdict written, short of a run limited to some rows, or rows a batch job is answering.
   */
  get nothingShown(): boolean {
    return this.prepared === undefined && (this.target.blank === true || (this.layout.outputsInPlace && this.layout.missingOutputs.includes('verdict')));
  }

  /**
   * The write check (write-probe.ts) the first write that makes something (headers, a tab:
   * firstWriteMakes) waits for: on a share made read-only, no write is tried before it says
   * so. Should it fail, nothing is written, and close() throws its failure when there was
   * something to write. `check` is the run's own (made once, shared with what asks).
   */
  checkBeforeMaking(check: () => Promise<void>): void {
    this.check = check;
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  enqueue(write: PendingWrite): void {
    if (this.stats.stopped) {
      this.stats.rowsNotWritten++;
      return;
    }
    const now = this.moved?.get(write.fingerprint);
    if (now?.length === 1 && now[0] !== undefined && now[0] !== write.row) {
      write.readRow ??= write.row;
      write.row = now[0];
    }
    this.pending.push(queued(write));
    if (this.pending.length >= this.options.batchSize) this.kick();
  }

  /**
   * Starts the flush loop unless it is already running: answers arriving while it waits
   * for the quota join its next batch instead of queueing one more waiter each.
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
    this.wake?.();
    await this.running;
    await this.pump();
    if (this.failure !== undefined) throw this.failure;
    if (this.stats.stopped === undefined) await this.options.afterWrites?.(this.prepared !== undefined).catch(() => undefined);
  }

  private async pump(): Promise<void> {
    await this.flushing.runExclusive(async () => {
      while (this.failure === undefined && (this.pending.length >= this.options.batchSize || (this.closing && this.pending.length > 0))) {
        if (this.check && this.firstWriteMakes) {
          try {
            await this.check();
          } catch (error) {
            this.failure = error instanceof Error ? error : new Error(String(error));
            break;
          }
        }
        const waited = await this.waitForSlots();
        // Rows that piled up while the quota made us wait go out together (coalescing), as
        // many as the byte caps allow; while it does not, batches of `batchSize`.
        const batch = this.take(waited ? Infinity : this.options.batchSize);
        try {
          await this.flush(batch);
        } catch (error) {
          this.pending = batch.map(queued).concat(this.pending);
          this.failure = error instanceof Error ? error : new Error(String(error));
        }
      }
    });
  }

  /** The next batch: at most `rows` rows whose write body and identity read fit the caps, by the estimates (always at least one row). */
  private take(rows: number): PendingWrite[] {
    return this.pending.splice(0, this.sizer.count(this.pending, rows)).map((q) => q.write);
  }

  /**
   * Sleeps until a verify read and a write may go. Regular flushes leave all but one slot
   * of each quota's burst in reserve, so that the calls after the last answer (the final
   * flush, then the look of the columns: ACCOUNT_BURST) go out at once instead of waiting
   * for the next slots. True when it had to wait.
   */
  private async waitForSlots(): Promise<boolean> {
    let waited = false;
    for (;;) {
      const { reads, writes } = this.client;
      const wait = Math.max(writes.delay(this.closing ? 0 : writes.burst - 1), reads.delay(this.closing ? 0 : reads.burst - 1));
      if (wait <= 0) return waited;
      waited = true;
      await this.nap(wait);
    }
  }

  /**
   * Sleeps `ms`, or until close() lifts the reserve: the run's last answer is in, and its
   * final flush goes out now rather than at the end of a nap (it was up to 50 ms of each
   * run's end, issue 25's bench B1). Rejects if the writer's signal aborts.
   */
  private async nap(ms: number): Promise<void> {
    const woken = new AbortController();
    this.wake = () => woken.abort();
    try {
      await sleep(ms, this.options.signal ? AbortSignal.any([this.options.signal, woken.signal]) : woken.signal);
    } catch (error) {
      if (!woken.signal.aborted || this.options.signal?.aborted) throw error;
    } finally {
      this.wake = undefined;
    }
  }

  /** One batch: each attempt re-reads and re-identifies, then writes; retried on 429 / 5xx as Sheets asks. */
  private async flush(batch: PendingWrite[]): Promise<void> {
    await (this.prepared ??= this.prepare());
    for (let attempt = 0; ; attempt++) {
      const failed = await (this.target.exclusive ? this.target.exclusive(() => this.attempt(batch)) : this.attempt(batch));
      if (failed === undefined) return;
      // The pause is outside the turn: other writers to the place go meanwhile.
      if (await this.client.retryPause('write', failed, attempt)) continue;
      throw failed;
    }
  }

  /**
   * The output headers and the target's tab are made here, lazily, and not when the tab
   * is opened: a run that ends before its first write (no provider usable, nothing to
   * ask) leaves the sheet as it found it.
   */
  private async prepare(): Promise<void> {
    this.stats.headersAdded = await addMissingHeaders(this.client, this.layout);
    await this.target.prepare?.();
  }

  /**
   * One attempt: undefined when done (written, or stopped), else the write's error. The
   * bodies are measured as the client sends them; a batch whose body the estimates put
   * past the cap is cut to the rows that fit, and the rest go back to the head of the
   * queue, where they are now (this attempt re-identified them).
   */
  private async attempt(batch: PendingWrite[]): Promise<Error | undefined> {
    const located = await locate(this.client, this.layout, batch, this.target.ranges(), () => this.pending.map((q) => q.write.fingerprint));
    this.stats.verifyReads += 'where' in located && located.where ? 2 : 1;
    if ('lost' in located) {
      this.stop(located.lost, batch.length);
      return undefined;
    }
    if (located.where) this.remember(located.where);
    else this.sizer.measuredRead(located.readBytes, batch.length);
    const fitted = await this.fit(located);
    if ('lost' in fitted) {
      this.stop(fitted.lost, batch.length);
      return undefined;
    }
    const { built, placed } = fitted;
    if (placed.length < located.placed.length) this.putBack(batch, located, placed.length);
    try {
      // New lines before anything that depends on them (the recheck box of their row is unticked in `data`).
      // A lost answer to the append is safe: the retry re-reads the tab and finds its lines.
      if ('append' in built && built.append && built.append.rows.length > 0) await this.client.append(built.append.range, built.append.rows, { retry: false });
      await this.client.write(built.data, { retry: false });
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
    this.settled({ ...located, placed }, built.data.length > 0 || (built.append?.rows.length ?? 0) > 0);
    return undefined;
  }

  /** The writes of the attempt, built; when a body would pass the cap, the first rows whose bodies fit (always one at least). */
  private async fit(located: Located): Promise<{ built: Built; placed: PendingWrite[] } | { lost: LostHeader }> {
    let placed = located.placed;
    for (;;) {
      const built = placed.length > 0 ? await this.target.build(placed, located.extra, located.columns) : { data: [] };
      if ('lost' in built) return built;
      const keep = this.sizer.fits(placed, built);
      if (keep === placed.length) return { built, placed };
      placed = placed.slice(0, keep);
    }
  }

  /**
   * The writes cut from this attempt go back to the head of the queue, where this attempt
   * found them; the batch keeps the others (a retry re-identifies exactly those, and a
   * failure puts back exactly those).
   */
  private putBack(batch: PendingWrite[], located: Located, kept: number): void {
    const cut = new Set(located.from.slice(kept));
    const rest = located.placed.slice(kept);
    const keep = batch.filter((_, i) => !cut.has(i));
    batch.length = 0;
    batch.push(...keep);
    this.pending = rest.map(queued).concat(this.pending);
  }

  private settled(located: Located, wrote: boolean): void {
    for (const skip of located.skipped) this.stats.skipped.push(skip);
    this.stats.rowsMoved += located.moved;
    if (wrote) {
      this.stats.writeCalls++;
      this.stats.rowsWritten += located.placed.length;
      for (const p of located.placed) if (p.readRow !== undefined && p.readRow !== p.row) this.stats.writtenAt.set(p.readRow, p.row);
      this.stats.largestBatch = Math.max(this.stats.largestBatch, located.placed.length);
    }
    this.options.onFlush?.(this.stats);
  }

  /** A header the bot needs is gone: nothing more goes to the tab this run; the verdicts stay cached. */
  private stop(lost: LostHeader, batchRows: number): void {
    this.stats.stopped = lost;
    this.stats.rowsNotWritten += batchRows + this.pending.length;
    this.pending = [];
    this.options.onFlush?.(this.stats);
  }

  /** Fixes the positions of the writes still pending from a whole-tab read. */
  private remember(where: Map<string, number[]>): void {
    this.moved = where;
    for (const { write } of this.pending) {
      const found = where.get(write.fingerprint);
      if (found?.length === 1 && found[0] !== undefined && found[0] !== write.row) {
        // The read-time row stays the entry's identity (a skip names it, a moved write is told by it).
        write.readRow ??= write.row;
        write.row = found[0];
      }
    }
  }
}
