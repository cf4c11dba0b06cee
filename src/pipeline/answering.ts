import { setMaxListeners } from 'node:events';
import { FatalRunError } from '../errors.js';
import type { Validator } from '../llm/index.js';
import { rowsAnswered, type Sharing } from './requests.js';
import type { Job } from './select.js';
import type { Settler } from './settle.js';

export interface AnsweringOptions {
  validator: Validator;
  settler: Settler;
  sharing: Sharing;
  maxWorkers: number;
  /** Aborting stops new requests (Ctrl-C, a lost lock). */
  stop?: AbortSignal | undefined;
  /** Aborting cancels requests in flight (a second Ctrl-C, the deadline). */
  abort?: AbortSignal | undefined;
  /** Rows not asked this run (stopped before their turn, or their request failed the run). */
  onDeferred: (rows: number) => void;
  /** After each request, whatever its outcome. */
  onRequest: () => void;
}

/**
 * The requests of a run: each asks the validator about a group of jobs and hands the
 * outcomes to the settler. One failure that dooms every row (a bad key, no quota) stops
 * the others from starting; the run ends with it (`failure`) once the writes are done.
 */
export class Answering {
  /** Aborted by a failure that dooms the run, or by the caller's stop. */
  readonly stop: AbortSignal;
  private readonly inFlight: AbortSignal;
  private readonly doomed = new AbortController();
  private error: Error | undefined;

  constructor(private readonly options: AnsweringOptions) {
    this.stop = AbortSignal.any([this.doomed.signal, ...(options.stop ? [options.stop] : [])]);
    this.inFlight = AbortSignal.any([this.doomed.signal, ...(options.abort ? [options.abort] : [])]);
    // Each worker's request and backoff listens to these while it runs (and only then).
    setMaxListeners(2 * options.maxWorkers + 16, this.stop, this.inFlight);
  }

  /** The failure that stopped the run, if one did. */
  get failure(): Error | undefined {
    return this.error;
  }

  /** One request: a job, or llm.rows_per_request jobs packed together. */
  readonly answer = async (group: Job[]): Promise<void> => {
    const { validator, settler, sharing } = this.options;
    if (this.stop.aborted) {
      // Near-duplicates waiting for this answer wait for the next run too.
      this.options.onDeferred(rowsAnswered(group, sharing));
      return;
    }
    try {
      const outcomes = await validator.validateMany(
        group.map((job) => job.inputs),
        this.inFlight,
      );
      group.forEach((job, i) => {
        const outcome = outcomes[i];
        if (outcome) settler.settle(job, outcome);
      });
    } catch (error) {
      this.options.onDeferred(rowsAnswered(group, sharing));
      if (!this.inFlight.aborted || error instanceof FatalRunError) {
        this.error ??= error instanceof Error ? error : new Error(String(error));
        this.doomed.abort(error);
      }
    }
    this.options.onRequest();
  };
}
