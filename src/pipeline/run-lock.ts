import { HEARTBEAT_MS, acquireLock, lockHolder, type CacheStore } from '../cache/index.js';
import type { Config } from '../config/index.js';
import { StatusValidatorError } from '../errors.js';

/** Repeats `tick` every `ms` until the returned function is called. Injectable for tests. */
export type Every = (ms: number, tick: () => void) => () => void;

export const realEvery: Every = (ms, tick) => {
  const timer = setInterval(tick, ms);
  timer.unref();
  return () => clearInterval(timer);
};

/**
 * The lock's name: one per tab of one spreadsheet (runs and batch submits share it). The
 * tab is folded as Sheets compares tab names (it refuses two that differ only in case),
 * so "Statuses" and " statuses" in two configs are one tab and one lock.
 */
export const lockNameOf = (config: Config): string => `${config.sheets.spreadsheet_id}/${config.sheets.sheet.trim().toLocaleLowerCase()}`;

export interface HeldLock {
  /** Aborted when the heartbeat finds the lock taken over: stop asking, write what is answered. */
  readonly lost: AbortSignal;
  /** Who held the lock before this run took it over, if anyone. */
  readonly tookOver: string | undefined;
  /** Stops the heartbeat and frees the lock (if still ours). Safe to call twice; never throws. */
  release(): void;
}

/**
 * The lock for the life of a run: taken (or LockedError), renewed every HEARTBEAT_MS,
 * and given up in `release`. A renewal that updates no row means another process judged
 * this run dead and took the sheet: `lost` aborts with a message that says so. A
 * renewal that fails (the file busy past its timeout) is tried again at the next beat.
 */
export function holdLock(store: CacheStore, config: Config, runId: string, options: { now?: () => Date; every?: Every } = {}): HeldLock {
  const name = lockNameOf(config);
  // The key folds the tab; messages show it as the config spells it.
  const label = `"${config.sheets.sheet}" in ${config.sheets.spreadsheet_id}`;
  const lock = acquireLock(store, name, runId, options.now, label);
  const lost = new AbortController();
  const stopBeating = (options.every ?? realEvery)(HEARTBEAT_MS, () => {
    if (lost.signal.aborted) return;
    let held: boolean;
    try {
      held = lock.heartbeat();
    } catch {
      return;
    }
    if (!held) lost.abort(new LockLostError(label, runId, lostTo(store, name)));
  });
  let released = false;
  return {
    lost: lost.signal,
    tookOver: lock.tookOver,
    release: () => {
      if (released) return;
      released = true;
      stopBeating();
      try {
        lock.release();
      } catch {
        // The row names this run; another process takes it over once its heartbeat is stale.
      }
    },
  };
}

/** The reason `lost` aborts with: what happened, and what to do about it. */
export class LockLostError extends StatusValidatorError {
  constructor(lockName: string, runId: string, holder: string) {
    super(
      `Run ${runId} lost its lock on ${lockName}: ${holder} took it over, judging this run dead (its heartbeat was late). This run stopped asking the model; the answers it had are saved and written.`,
      { hint: 'Make sure one process at a time runs on this sheet; a run whose heartbeat stops for minutes (a suspended machine, a frozen container) is taken over.' },
    );
  }
}

function lostTo(store: CacheStore, name: string): string {
  try {
    const row = lockHolder(store, name);
    return row ? `run ${row.runId} (pid ${row.pid} on ${row.host})` : 'another process (which has since released it)';
  } catch {
    return 'another process';
  }
}
