import { randomUUID } from 'node:crypto';
import type { Progress, RunSummary } from '../pipeline/index.js';

export interface RunState {
  id: string;
  /** starting: admitted, its request body still arriving; then running, then finished or failed. */
  status: 'starting' | 'running' | 'finished' | 'failed';
  startedAt: string;
  progress: Progress | undefined;
  summary: RunSummary | undefined;
  error: string | undefined;
}

/** An admitted run that has not started yet: start it, or give the slot back. */
export interface Claim {
  state: RunState;
  start(run: (state: RunState) => Promise<RunSummary>, describe: (error: unknown) => string): void;
  cancel(): void;
}

/**
 * The server's one run slot. `claim` checks and takes it in one synchronous step, so two
 * requests can never both be admitted, however their bodies arrive; the slot is held
 * until that run has ended (or the claim is cancelled), so `current` is always the truth.
 */
export class RunSlot {
  private current: RunState | undefined;
  /** Resolves when the slot is free again: the claim cancelled, or its run ended. */
  private free: Promise<void> = Promise.resolve();
  private readonly kept = new Map<string, RunState>();

  /** The run in progress (or being admitted), if any. */
  get active(): RunState | undefined {
    return this.current;
  }

  /** A recent run by id (the last hundred are kept). */
  get(id: string): RunState | undefined {
    return this.kept.get(id);
  }

  /** Resolves once no run is in progress or being admitted. */
  idle(): Promise<void> {
    return this.free;
  }

  claim(): Claim | { busy: RunState } {
    if (this.current) return { busy: this.current };
    const state: RunState = { id: randomUUID(), status: 'starting', startedAt: new Date().toISOString(), progress: undefined, summary: undefined, error: undefined };
    this.current = state;
    // Kept from the claim on, so that the url a 409 names answers while the body arrives.
    this.keep(state);
    let freed!: () => void;
    this.free = new Promise((resolve) => (freed = resolve));
    let settled = false;
    return {
      state,
      cancel: () => {
        if (settled) return;
        settled = true;
        this.current = undefined;
        this.kept.delete(state.id);
        freed();
      },
      start: (run, describe) => {
        if (settled) throw new Error('this claim was already started or cancelled');
        settled = true;
        state.status = 'running';
        void Promise.resolve()
          .then(() => run(state))
          .then(
            (summary) => {
              state.summary = summary;
              state.status = summary.status === 'failed' ? 'failed' : 'finished';
            },
            (error: unknown) => {
              state.status = 'failed';
              state.error = describe(error);
            },
          )
          .finally(() => {
            this.current = undefined;
            freed();
          });
      },
    };
  }

  private keep(state: RunState): void {
    this.kept.set(state.id, state);
    if (this.kept.size > 100) this.kept.delete(this.kept.keys().next().value as string);
  }
}
