import { MAX_BATCH_INPUT_BYTES, MAX_BATCH_REQUESTS, type BatchObject, type BatchStatus } from './batch-object.js';
import { toSeconds } from './files.js';
import type { BatchOptions } from './types.js';

// One batch's state on the emulator clock: the phase durations and size limits, which statuses
// still run, and the stamps of a status change. The engine (batches.ts) drives it.

export interface InputLine {
  customId: string;
  body: Record<string, unknown>;
}

export interface BatchState {
  object: BatchObject;
  /** Creation order, to sort batches created in the same second. */
  seq: number;
  createdMs: number;
  expiresMs: number;
  /** When the current status began (scheduled time, so a late look cascades through several statuses). */
  phaseStartMs: number;
  lines: InputLine[];
  /** Lines answered so far (a prefix of `lines`). */
  done: number;
  outLines: string[];
  errLines: string[];
  lock: Promise<void>;
}

export interface Timings {
  validatingMs: number;
  inProgressMs: number;
  finalizingMs: number;
  cancellingMs: number;
  maxRequests: number;
  maxInputBytes: number;
}

const DEFAULT_TIMINGS: Timings = {
  validatingMs: 50,
  inProgressMs: 100,
  finalizingMs: 50,
  cancellingMs: 50,
  maxRequests: MAX_BATCH_REQUESTS,
  maxInputBytes: MAX_BATCH_INPUT_BYTES,
};

export function resolveTimings(opts: BatchOptions | undefined): Timings {
  const out: Timings = { ...DEFAULT_TIMINGS };
  for (const key of Object.keys(DEFAULT_TIMINGS) as (keyof Timings)[]) {
    const value = opts?.[key];
    if (value === undefined) continue;
    if (!(value >= 0) || !Number.isFinite(value)) throw new RangeError(`batch.${key} must be a finite number >= 0, got ${value}`);
    out[key] = value;
  }
  return out;
}

export const RUNNING: ReadonlySet<BatchStatus> = new Set(['validating', 'in_progress', 'finalizing']);
export const FORWARD: Partial<Record<BatchStatus, number>> = { validating: 0, in_progress: 1, finalizing: 2, completed: 3 };

/** Lines the clock says are answered by `t`, in proportion to the in_progress time elapsed. */
export function linesDueAt(b: BatchState, timings: Timings, t: number): number {
  const { inProgressMs } = timings;
  const elapsed = t - b.phaseStartMs;
  if (inProgressMs <= 0 || elapsed >= inProgressMs) return b.lines.length;
  if (elapsed <= 0) return 0;
  return Math.floor((b.lines.length * elapsed) / inProgressMs);
}

export function startFinalizing(b: BatchState, at: number): void {
  b.object.status = 'finalizing';
  b.object.finalizing_at = toSeconds(at);
  b.phaseStartMs = at;
}

export function startCancelling(b: BatchState, at: number): void {
  b.object.status = 'cancelling';
  b.object.cancelling_at = toSeconds(at);
  b.phaseStartMs = at;
}
