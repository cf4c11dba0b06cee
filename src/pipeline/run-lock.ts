import { HEARTBEAT_MS, type Store } from '../cache/index.js';
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
export const lockNameOf = (config: Pick<Config, 'sheets'>): string => lockOf(config.sheets).name;

/** A tab's lock: its name (folded) and how messages show it (as the config spells it). */
export interface RunLockName {
  readonly name: string;
  readonly label: string;
}

export function lockOf(sheets: { spreadsheet_id: string; sheet: string }): RunLockName {
  return { name: `${sheets.spreadsheet_id}/${sheets.sheet.trim().toLocaleLowerCase()}`, label: `"${sheets.sheet}" in ${sheets.spreadsheet_id}` };
}

export interface HeldLock {
  /** Aborted when the lock is lost (taken over, or the store's session holding it ended): stop asking, write what is answered. */
  readonly lost: AbortSignal;
  /** Who held the lock before this run took it over, if anyone. */
  readonly tookOver: string | undefined;
  /** Stops the heartbeat and frees the lock (if still ours). Safe to call twice; never rejects. */
  release(): Promise<void>;
}

/**
 * The lock for the life of a run: taken (or LockedError), renewed every HEARTBEAT_MS,
 * and given up in `release`. A renewal that resolves false means another process judged
 * this run dead and took the sheet, and a lock whose `lost` signal aborts (a PostgreSQL
 * session gone) is no longer held either: `lost` aborts with a message that says so. A
 * renewal that fails (the file busy past its timeout, the database unreachable) is tried
 * again at the next beat. A beat still waiting when the next is due is not doubled.
 */
export async function holdLock(store: Store, config: Pick<Config, 'sheets'>, runId: string, options: { now?: () => Date; every?: Every } = {}): Promise<HeldLock> {
  return holdRunLock(store, lockOf(config.sheets), runId, options);
}

/** holdLock for a lock already named (a RunPlan's). */
export async function holdRunLock(store: Store, { name, label }: RunLockName, runId: string, options: { now?: () => Date; every?: Every } = {}): Promise<HeldLock> {
  const lock = await store.locks.acquire(name, runId, { ...(options.now ? { now: options.now } : {}), label });
  const lost = new AbortController();
  const onSessionLost = () => {
    if (!lost.signal.aborted) lost.abort(new LockLostError(label, runId, 'nobody yet', 'the connection to the store that held it ended'));
  };
  if (lock.lost?.aborted) onSessionLost();
  else lock.lost?.addEventListener('abort', onSessionLost, { once: true });
  let beating = false;
  const beat = async () => {
    if (lost.signal.aborted || beating) return;
    beating = true;
    try {
      let held: boolean;
      try {
        held = await lock.heartbeat();
      } catch {
        return;
      }
      if (!held && !lost.signal.aborted) {
        const holder = await lostTo(store, name);
        if (!lost.signal.aborted) lost.abort(new LockLostError(label, runId, holder));
      }
    } finally {
      beating = false;
    }
  };
  // beat never rejects: every failure is handled inside.
  const stopBeating = (options.every ?? realEvery)(HEARTBEAT_MS, () => void beat());
  let released = false;
  return {
    lost: lost.signal,
    tookOver: lock.tookOver,
    release: async () => {
      if (released) return;
      released = true;
      stopBeating();
      lock.lost?.removeEventListener('abort', onSessionLost);
      try {
        await lock.release();
      } catch {
        // The row names this run; another process takes it over once its heartbeat is stale.
      }
    },
  };
}

/** The reason `lost` aborts with: what happened, and what to do about it. */
export class LockLostError extends StatusValidatorError {
  constructor(lockName: string, runId: string, holder: string, sessionEnded?: string) {
    super(
      sessionEnded
        ? `Run ${runId} lost its lock on ${lockName}: ${sessionEnded}, so another instance may take the sheet. This run stopped asking the model; the answers it had are saved and written.`
        : `Run ${runId} lost its lock on ${lockName}: ${holder} took it over, judging this run dead (its heartbeat was late). This run stopped asking the model; the answers it had are saved and written.`,
      {
        hint: sessionEnded
          ? 'Check the database server and the network to it (cache.url), then run again: nothing committed is asked again.'
          : 'Make sure one process at a time runs on this sheet; a run whose heartbeat stops for minutes (a suspended machine, a frozen container) is taken over.',
      },
    );
  }
}

async function lostTo(store: Store, name: string): Promise<string> {
  try {
    const row = await store.locks.holder(name);
    return row ? `run ${row.runId} (pid ${row.pid} on ${row.host})` : 'another process (which has since released it)';
  } catch {
    return 'another process';
  }
}
