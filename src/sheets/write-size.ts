import { chunkTargetBytes } from './chunks.js';
import { appendBody, bodyBytes, writeBody } from './wire.js';
import type { Built, PendingWrite } from './writer.js';

/**
 * No write request body is larger than this, counted as the client sends it (JSON of the
 * values, the ranges, the recheck boxes unticked, the results tab's new lines): Google
 * recommends "a 2 MB maximum payload" (https://developers.google.com/sheets/api/limits,
 * "Quota limits"). A single row larger than this still goes, alone.
 */
export const MAX_BYTES_PER_CALL = 2_000_000;
/**
 * …and the identity read before it brings about this much at most: the same 2 MB, for
 * the answer (the rows' cells, learned from the reads so far).
 */
export const MAX_READ_BYTES_PER_CALL = 2_000_000;

/**
 * The identity read's cap for this process: MAX_READ_BYTES_PER_CALL, unless the reads of rows
 * were shrunk (STATUS_VALIDATOR_READ_CHUNK_BYTES, chunks.ts): a test that scales Google's
 * 180 s processing deadline down with its chunks (the emulator's read rate) must have the
 * writer's reads kept to the same scale, or a write batch that grew while the run was slow
 * makes one read that passes the deadline.
 */
export function identityReadBytes(env: NodeJS.ProcessEnv = process.env): number {
  return (env['STATUS_VALIDATOR_READ_CHUNK_BYTES'] ?? '').trim() === '' ? MAX_READ_BYTES_PER_CALL : chunkTargetBytes(env);
}

/** What a row adds to a write body besides its cells before any was measured: its ranges and brackets, generously. */
const FIRST_OVERHEAD = 400;
/** Bytes of the identity read per row before any was measured (a first flush has `batchSize` rows and measures it). */
const FIRST_READ_PER_ROW = 500;
/**
 * Rows of a batch before any identity read was measured: rows piled up while the first
 * write waited (coalescing) would otherwise go out in one read sized by a guess, and rows
 * carrying long text in columns the bot does not write (9 KB of Japanese notes a row)
 * would make it answer several times the cap. The first read measures; the next are sized
 * by it (as chunks.ts grows its reads step by step, never in one leap).
 */
export const FIRST_READ_ROWS = 100;
/** The estimates fill a batch to this share of the caps: a body found too large after all is cut, which costs a build. */
const FILL = 0.95;
/** JSON around the data of a values.batchUpdate body: `{"valueInputOption":"RAW","data":[]}`. */
const BODY_FRAME = 40;

export interface Queued {
  write: PendingWrite;
  /** Bytes of its cells' JSON in a request body (exact; the ranges around them are estimated). */
  bytes: number;
}

/** A queued write, with the exact bytes of its cells in a request body. */
export function queued(write: PendingWrite): Queued {
  return { write, bytes: cellsBytes(write) };
}

/**
 * How many rows go in one write call: as many as fit a body of `maxBody` bytes and an
 * identity read of about `maxRead`, by estimates learned from the bodies built and the
 * reads answered so far; then checked exactly on the body built (fits), since a row's
 * ranges, its recheck box and the target's own cells are known only then.
 */
export class BatchSizer {
  /** What a row adds to a write body besides its cells' JSON, as measured: the largest lately. */
  private overhead = FIRST_OVERHEAD;
  /** What a row of a batch brings in its identity read, as measured: the largest lately. */
  private readPerRow = FIRST_READ_PER_ROW;
  /** Whether an identity read was measured yet (before: batches of FIRST_READ_ROWS at most). */
  private measured = false;

  constructor(
    readonly maxBody: number,
    readonly maxRead: number,
  ) {
    if (!(maxBody >= 1000)) throw new RangeError(`maxBodyBytes must be at least 1000, got ${maxBody}`);
    if (!(maxRead >= 1000)) throw new RangeError(`maxReadBytes must be at least 1000, got ${maxRead}`);
  }

  /** How many of the first queued writes (at most `rows`, at least one) fit both caps, by the estimates. */
  count(pending: readonly Queued[], rows: number): number {
    const bodyRoom = this.maxBody * FILL - BODY_FRAME;
    const readRoom = this.maxRead * FILL;
    let count = 0;
    let body = 0;
    let read = 0;
    if (!this.measured) rows = Math.min(rows, FIRST_READ_ROWS);
    for (const { bytes } of pending) {
      const nextBody = body + bytes + this.overhead;
      const nextRead = read + this.readPerRow;
      if (count >= rows || (count > 0 && (nextBody > bodyRoom || nextRead > readRoom))) break;
      body = nextBody;
      read = nextRead;
      count++;
    }
    return count;
  }

  /** Learns from an identity read of `rows` rows that brought about `bytes` bytes of cells. */
  measuredRead(bytes: number, rows: number): void {
    if (rows <= 0) return;
    this.readPerRow = learn(this.readPerRow, bytes / rows);
    this.measured = true;
  }

  /**
   * Measures the bodies built for `placed` exactly as the client sends them and learns
   * from them; returns how many of the first writes to keep: all when every body fits (or
   * there is one row), else fewer, in proportion and a little more (the caller builds and
   * measures again).
   */
  fits(placed: readonly PendingWrite[], built: Built): number {
    if (placed.length === 0) return 0;
    const write = built.data.length > 0 ? bodyBytes(writeBody(built.data)) : 0;
    const append = built.append && built.append.rows.length > 0 ? bodyBytes(appendBody(built.append.rows)) : 0;
    const cells = placed.reduce((n, p) => n + cellsBytes(p), 0);
    this.overhead = learn(this.overhead, (write + append - cells) / placed.length);
    const largest = Math.max(write, append);
    if (largest <= this.maxBody || placed.length <= 1) return placed.length;
    return Math.max(1, Math.min(placed.length - 1, Math.floor((placed.length * this.maxBody * FILL) / largest)));
  }
}

/** Bytes of a write's cells as JSON strings in a body, with the commas between them. */
function cellsBytes(write: PendingWrite): number {
  let bytes = 0;
  for (const text of Object.values(write.cells)) bytes += Buffer.byteLength(JSON.stringify(text)) + 1;
  return bytes;
}

/** An estimate that follows a larger measure at once and a smaller one halfway: batches shrink at once and grow back over a few calls. */
function learn(estimate: number, measured: number): number {
  if (!Number.isFinite(measured)) return estimate;
  return measured >= estimate ? measured : (estimate + measured) / 2;
}
