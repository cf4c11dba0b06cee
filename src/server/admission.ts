import { randomUUID } from 'node:crypto';
import type { Progress, RunSummary } from '../pipeline/index.js';

export interface RunState {
  id: string;
  /** starting: admitted (its body read, its tab named), being planned; then running, then finished or failed. */
  status: 'starting' | 'running' | 'finished' | 'failed';
  startedAt: string;
  /** The targets it runs (their names); filled in once known. */
  targets: string[];
  progress: Progress | undefined;
  /** One per target, once it has ended. */
  summaries: RunSummary[];
  error: string | undefined;
  /** Targets a run of every target left out for another run holding them (the operator's view names them). */
  skipped?: Busy[];
}

/** An admitted run that has not started yet: start it, or give its targets back. */
export interface Claim {
  state: RunState;
  start(run: (state: RunState) => Promise<RunSummary[]>, describe: (error: unknown) => string): void;
  cancel(): void;
  /** Gives back targets another process turned out to hold (their lock in the store), noting them as skipped. */
  skip(busy: readonly Busy[]): void;
}

/** The run holding a target: one of this server's, or another process's sharing the store (its host then named). */
export interface Holder {
  id: string;
  host?: string;
}

/** Why a claim was refused: the run that holds one of its targets. */
export interface Busy {
  busy: Holder;
  target: string;
}

/**
 * The server's run slots: one per target. `claim` checks and takes every target a run
 * needs in one synchronous step, so two requests can never both be admitted to one
 * target however their bodies arrive, while another target can run at the same time;
 * the targets are held until that run has ended (or the claim is cancelled), so
 * `active` is always the truth.
 */
export class RunSlot {
  private readonly holders = new Map<string, RunState>();
  private readonly running = new Set<RunState>();
  private readonly kept = new Map<string, RunState>();
  private waiters: Array<() => void> = [];

  /** The runs in progress (or being admitted), oldest first. */
  get active(): RunState[] {
    return [...this.running];
  }

  /** A recent run by id (the last hundred are kept). */
  get(id: string): RunState | undefined {
    return this.kept.get(id);
  }

  /** Resolves once no run is in progress or being admitted. */
  idle(): Promise<void> {
    if (this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * Takes `targets` (names) for one run, or says which run holds one of them. With
   * `partial` (a cron run of every target) it takes those that are free and leaves the
   * busy ones out (`state.skipped`), as `run` runs a portfolio's other targets when one
   * tab's lock is held; refused only when none is free.
   */
  claim(wanted: readonly string[], partial = false): Claim | Busy {
    const busy: Busy[] = [];
    for (const target of wanted) {
      const holder = this.holders.get(target);
      if (holder) busy.push({ busy: holder, target });
    }
    const targets = partial ? wanted.filter((t) => !this.holders.has(t)) : [...wanted];
    const [first] = busy;
    if (first && (!partial || targets.length === 0)) return first;
    const state: RunState = { id: randomUUID(), status: 'starting', startedAt: new Date().toISOString(), targets: [...targets], progress: undefined, summaries: [], error: undefined, ...(busy.length > 0 ? { skipped: busy } : {}) };
    for (const target of targets) this.holders.set(target, state);
    this.running.add(state);
    // Kept from the claim on, so that the url a 409 names answers while the body arrives.
    this.keep(state);
    let settled = false;
    const release = () => {
      for (const target of targets) if (this.holders.get(target) === state) this.holders.delete(target);
      this.running.delete(state);
      if (this.running.size > 0) return;
      const waiters = this.waiters;
      this.waiters = [];
      for (const resolve of waiters) resolve();
    };
    return {
      state,
      skip: (others) => {
        const names = new Set(others.map((b) => b.target));
        for (const name of names) if (this.holders.get(name) === state) this.holders.delete(name);
        state.targets = state.targets.filter((t) => !names.has(t));
        targets.splice(0, targets.length, ...targets.filter((t) => !names.has(t)));
        state.skipped = [...(state.skipped ?? []), ...others];
      },
      cancel: () => {
        if (settled) return;
        settled = true;
        this.kept.delete(state.id);
        release();
      },
      start: (run, describe) => {
        if (settled) throw new Error('this claim was already started or cancelled');
        settled = true;
        state.status = 'running';
        void Promise.resolve()
          .then(() => run(state))
          .then(
            (summaries) => {
              state.summaries = summaries;
              const failed = summaries.filter((s) => s.status === 'failed');
              state.status = failed.length > 0 ? 'failed' : 'finished';
              if (failed.length > 0) state.error = failed.map((s) => `${summaries.length > 1 ? `[${s.target}] ` : ''}${s.fatal?.message ?? 'failed'}`).join('; ');
            },
            (error: unknown) => {
              state.status = 'failed';
              state.error = describe(error);
            },
          )
          .finally(release);
      },
    };
  }

  private keep(state: RunState): void {
    this.kept.set(state.id, state);
    if (this.kept.size > 100) this.kept.delete(this.kept.keys().next().value as string);
  }
}
