import { randomUUID } from 'node:crypto';
import type { Store } from '../cache/index.js';
import type { Config } from '../config/index.js';
import { LockedError } from '../errors.js';
import { holdLock, lockNameOf, type HeldLock } from '../pipeline/index.js';
import type { Busy } from './admission.js';

/** A target's lock, taken at admission for the run id its run will have. */
export interface TargetLock {
  runId: string;
  lock: HeldLock;
}

export interface AdmissionLocks {
  /** The locks taken, by target name. */
  readonly held: ReadonlyMap<string, TargetLock>;
  /** The targets another process holds (another instance of serve, a `run`, a watch), with their holder. */
  readonly elsewhere: Busy[];
  /** Frees every lock taken (those a run took charge of are freed by it too: releasing twice is harmless). */
  release(): Promise<void>;
}

/**
 * The store's run locks of the targets an admitted request would run, taken before it is
 * answered 202. Why here and not in the run: the run slot (admission.ts) knows only this
 * process's runs, and with several instances sharing the store (cache.url), each would answer
 * 202 and all but one run would then exit 4 behind it. Taken here, exactly one instance admits
 * a target, and the others answer 409 naming the holder. The lock is handed to the run
 * (RunOptions.heldLock), which keeps renewing it and frees it at its end. A one-target run's
 * lock is taken for the request's id (its run's id, launch.ts), the others' for fresh ids.
 * A failure other than a held lock (the store unreachable) frees what was taken and is thrown.
 */
export async function lockTargets(store: Store, targets: readonly Config[], requestId: string): Promise<AdmissionLocks> {
  const results = await Promise.allSettled(
    targets.map(async (config) => {
      const runId = targets.length === 1 ? requestId : randomUUID();
      return { name: config.target.name, runId, lock: await holdLock(store, config, runId) };
    }),
  );
  const held = new Map<string, TargetLock>();
  const elsewhere: Busy[] = [];
  let failure: Error | undefined;
  for (const [i, result] of results.entries()) {
    const config = targets[i] as Config;
    if (result.status === 'fulfilled') held.set(result.value.name, { runId: result.value.runId, lock: result.value.lock });
    else if (result.reason instanceof LockedError) elsewhere.push({ target: config.target.name, busy: await holderOf(store, config) });
    else failure ??= result.reason instanceof Error ? result.reason : new Error(String(result.reason));
  }
  const release = async () => {
    await Promise.all([...held.values()].map(({ lock }) => lock.release()));
  };
  if (failure !== undefined) {
    await release();
    throw failure;
  }
  return { held, elsewhere, release };
}

/** Who holds a target's lock, as a 409 names it; a holder that let go meanwhile is named by nothing but its absence. */
async function holderOf(store: Store, config: Config): Promise<Busy['busy']> {
  const holder = await store.locks.holder(lockNameOf(config)).catch(() => undefined);
  return holder ? { id: holder.runId, host: holder.host } : { id: '' };
}
