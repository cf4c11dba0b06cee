import { HEARTBEAT_MS, type Store } from '../cache/index.js';
import type { Config } from '../config/index.js';
import { LockedError, StatusValidatorError } from '../errors.js';

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
 * this run dead and took the sheet: `lost` aborts with a message that says so. A renewal
 * that fails (the file busy past its timeout, the database unreachable) is tried again at
 * the next beat. A beat still waiting when the next is due is not doubled.
 *
 * A lock whose store says it is lost (`AcquiredLock.lost`: the PostgreSQL session holding it
 * ended) is taken again under the same run id before the run is stopped. Why: a session ends
 * when the database restarts, fails over, or a proxy drops the connection, and none of that
 * is a takeover; stopping a healthy run for it would leave its tab half done for nothing.
 * If nobody took the tab in the meantime, the run carries on holding the lock again (the
 * store's acquire retries the connection within its commit patience); if another run took
 * it (a holder whose session ended looks dead to the others: that is the point of a session
 * lock), or the database stays unreachable past that patience, `lost` aborts and the run
 * stops like one taken over. The price: between the session's end and the lock taken again
 * (while the database is down, and the moment it is back) this run goes on asking, and a run
 * starting elsewhere in that moment could take the tab; then this run stops at once, and a
 * question both asked in that moment is the only one paid twice.
 */
export async function holdLock(store: Store, config: Pick<Config, 'sheets'>, runId: string, options: { now?: () => Date; every?: Every } = {}): Promise<HeldLock> {
  return holdRunLock(store, lockOf(config.sheets), runId, options);
}

/** holdLock for a lock already named (a RunPlan's); the label is how messages name it (the key folds the tab). */
export async function holdRunLock(store: Store, { name, label }: RunLockName, runId: string, options: { now?: () => Date; every?: Every } = {}): Promise<HeldLock> {
  const acquireOptions = { ...(options.now ? { now: options.now } : {}), label };
  let lock = await store.locks.acquire(name, runId, acquireOptions);
  const lost = new AbortController();
  let released = false;
  /** Set while the lock is being taken again: beats wait for it. */
  let regaining: Promise<void> | undefined;
  const regain = async (): Promise<void> => {
    const previous = lock;
    await previous.release().catch(() => {});
    try {
      const again = await store.locks.acquire(name, runId, acquireOptions);
      if (released || lost.signal.aborted) {
        await again.release().catch(() => {});
        return;
      }
      lock = again;
      watch(again);
    } catch (error) {
      if (lost.signal.aborted) return;
      const holder = error instanceof LockedError ? await lostTo(store, name) : undefined;
      lost.abort(
        holder !== undefined
          ? new LockLostError(label, runId, holder, 'the connection to the store that held it ended and, before it could be taken again')
          : new LockLostError(label, runId, 'nobody yet', `the connection to the store that held it ended and it could not be taken again (${error instanceof Error ? error.message : String(error)})`),
      );
    }
  };
  const onSessionLost = () => {
    if (released || lost.signal.aborted || regaining) return;
    regaining = regain().finally(() => (regaining = undefined));
  };
  const watching = new Set<AbortSignal>();
  const watch = (held: typeof lock) => {
    if (!held.lost) return;
    if (held.lost.aborted) return onSessionLost();
    held.lost.addEventListener('abort', onSessionLost, { once: true });
    watching.add(held.lost);
  };
  watch(lock);
  let beating = false;
  const beat = async () => {
    if (lost.signal.aborted || beating || regaining) return;
    beating = true;
    try {
      const current = lock;
      let held: boolean;
      try {
        held = await current.heartbeat();
      } catch {
        return;
      }
      // A session that ended while this beat waited is being taken again, not taken over.
      if (!held && current.lost?.aborted) return;
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
  return {
    lost: lost.signal,
    tookOver: lock.tookOver,
    release: async () => {
      if (released) return;
      released = true;
      stopBeating();
      for (const signal of watching) signal.removeEventListener('abort', onSessionLost);
      // A lock being taken again is released by regain itself once it has it (released is set).
      await regaining;
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
        ? `Run ${runId} lost its lock on ${lockName}: ${sessionEnded}${holder === 'nobody yet' ? ', so another instance may take the sheet' : `, ${holder} took it`}. This run stopped asking the model; the answers it had are saved and written.`
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
