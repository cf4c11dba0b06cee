import type { Progress } from '../pipeline/index.js';
import { formatUsd } from './render.js';
import { n, plural } from './words.js';

/** What a person wants of a long run: how far, how fast, how long still, how much so far. */
export interface Figures {
  /** Questions settled: answered or given up on (ERROR). */
  done: number;
  total: number;
  answered: number;
  errors: number;
  /** Whole percent, rounded down: 99.9 % shows as 99 % until the last question is done. */
  percent: number;
  elapsedMs: number;
  /** Questions settled a minute, over the time spent asking; null until there is something to measure. */
  perMinute: number | null;
  /** Time still to go at that rate; null while the rate is unknown. */
  etaMs: number | null;
  costUsd: number | null;
}

/** Below this much time asking, a rate would be noise. */
const MIN_MEASURE_MS = 1000;

/**
 * The figures of a progress report. `startedAt` is when the run started (elapsed time),
 * `askingSince` when its validating phase did (the rate counts only the time spent asking,
 * not reading the sheet).
 */
export function figuresOf(p: Progress, startedAt: number, askingSince: number | undefined, now: number): Figures {
  const total = Math.max(0, p.questions);
  const done = Math.min(Math.max(0, p.answered), total);
  const errors = Math.min(Math.max(0, p.errors), done);
  const percent = total === 0 ? 100 : Math.floor((done * 100) / total);
  const asking = askingSince === undefined ? 0 : now - askingSince;
  const perMinute = asking >= MIN_MEASURE_MS && done > 0 ? (done / asking) * 60_000 : null;
  const etaMs = done >= total ? 0 : perMinute === null ? null : ((total - done) / perMinute) * 60_000;
  return { done, total, answered: done - errors, errors, percent, elapsedMs: Math.max(0, now - startedAt), perMinute, etaMs, costUsd: p.costUsd === undefined ? 0 : p.costUsd };
}

/** A duration for people: 8 s, 4 min 05 s, 2 h 03 min (rounded up: an ETA of 0.2 s is 1 s, not 0). */
export function duration(ms: number): string {
  const s = Math.ceil(Math.max(0, ms) / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

export const rate = (f: Figures) => (f.perMinute === null ? '–/min' : `${f.perMinute < 10 ? f.perMinute.toFixed(1) : n(Math.round(f.perMinute))}/min`);
export const eta = (f: Figures) => (f.etaMs === null ? 'ETA unknown' : `ETA ${duration(f.etaMs)}`);
export const cost = (f: Figures) => (f.costUsd === null ? 'cost so far unknown (no price for this model)' : `${formatUsd(f.costUsd)} so far`);

/** One line of progress, the same figures a terminal's bar shows. */
export function progressLine(p: Progress, f: Figures): string {
  const tail = `${plural(p.retries, 'retry', 'retries')} | elapsed ${duration(f.elapsedMs)} | ${cost(f)} | ${plural(p.rowsWritten, 'row')} written`;
  switch (p.phase) {
    case 'reading':
      return 'reading the sheet…';
    case 'validating':
      if (f.total === 0) return `validating: nothing to ask the model | ${tail}`;
      return `validating: ${n(f.done)}/${plural(f.total, 'question')} (${f.percent}%): ${n(f.answered)} answered, ${plural(f.errors, 'error')} | ${rate(f)} | ${eta(f)} | ${tail}`;
    case 'writing':
      return `writing the last verdicts: ${n(f.answered)} answered, ${plural(f.errors, 'error')} of ${plural(f.total, 'question')} | ${tail}`;
    case 'done':
      return `done: ${n(f.answered)} answered, ${plural(f.errors, 'error')} of ${plural(f.total, 'question')} | ${tail}`;
  }
}
