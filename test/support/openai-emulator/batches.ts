import { checkCreateBody, checkInput } from './batch-input.js';
import { BatchLineRunner } from './batch-lines.js';
import { COMPLETION_WINDOW_MS, emptyUsage, isPlainObject, type BatchDialect, type BatchLineModel, type BatchObject } from './batch-object.js';
import { finish, finishExpired } from './batch-output.js';
import { FORWARD, linesDueAt, resolveTimings, RUNNING, startCancelling, startFinalizing, type BatchState, type Timings } from './batch-state.js';
import { apiError, invalidRequest, invalidUrl, jsonReply, listLimit, listPage, newId, toSeconds, type ApiCall, type ApiReply, type FileStore } from './files.js';
import type { AdvanceBatchOptions, BatchAdvanceTarget, BatchOptions, Fault, InjectBatchLineFaultOptions } from './types.js';
import { parseJsonBody } from './validate.js';

// The Batch API's objects and limits live in batch-object.ts; re-exported so every import of them stays as it was.
export {
  BATCH_EXPIRED_MESSAGE,
  COMPLETION_WINDOW_MS,
  MAX_BATCH_INPUT_BYTES,
  MAX_BATCH_REQUESTS,
  type BatchDialect,
  type BatchError,
  type BatchLineAnswer,
  type BatchLineModel,
  type BatchObject,
  type BatchStatus,
  type BatchUsage,
} from './batch-object.js';

function batchNotFound(id: string): ApiReply {
  return apiError(404, { message: `No batch found with id '${id}'.`, type: 'invalid_request_error', param: 'batch_id' });
}

/**
 * The Batch API: batches advance through their statuses on the emulator clock, are answered line
 * by line through the chat responder, and leave output / error files in the {@link FileStore}.
 */
export class BatchEngine {
  private readonly byId = new Map<string, BatchState>();
  private seq = 0;
  private readonly timings: Timings;
  private readonly lineRunner: BatchLineRunner;

  constructor(
    private readonly files: FileStore,
    model: BatchLineModel,
    private readonly now: () => number,
    options: BatchOptions | undefined,
    /** A provider profile's own Batch API words (profiles.ts): its chat endpoint and the completion windows it takes. */
    private readonly dialect?: BatchDialect,
  ) {
    this.timings = resolveTimings(options);
    this.lineRunner = new BatchLineRunner(model);
  }

  /** Batch lines run through the model (answered or failed with an HTTP error) since start / clear(). */
  linesAnswered(): number {
    return this.lineRunner.linesAnswered();
  }

  injectLineFault(fault: Fault, opts: InjectBatchLineFaultOptions = {}): void {
    this.lineRunner.injectLineFault(fault, opts);
  }

  pendingLineFaults(): number {
    return this.lineRunner.pendingLineFaults();
  }

  /** Batches as last computed (no clock advance), oldest first, as deep copies. */
  snapshot(): BatchObject[] {
    return [...this.byId.values()].sort((a, b) => a.seq - b.seq).map((b) => structuredClone(b.object));
  }

  clear(): void {
    this.byId.clear();
    this.lineRunner.clear();
  }

  /** Test hook: bring the batch up to the clock, then force it on to `to` right now. */
  advance(id: string, to: BatchAdvanceTarget, opts: AdvanceBatchOptions = {}): Promise<BatchObject> {
    const b = this.byId.get(id);
    if (!b) return Promise.reject(new Error(`advanceBatch: no batch ${id}`));
    if (opts.lines !== undefined && to !== 'in_progress') {
      return Promise.reject(new RangeError(`advanceBatch: 'lines' only goes with 'in_progress', not '${to}'`));
    }
    return this.locked(b, async () => {
      const t = this.now();
      await this.settle(b, t);
      await this.force(b, to, t, opts);
      return structuredClone(b.object);
    });
  }

  /** POST/GET /v1/batches[/:id[/cancel]]. */
  async handle(call: ApiCall): Promise<ApiReply> {
    const [, id, sub, ...extra] = call.parts;
    if (extra.length > 0) return invalidUrl(call);
    if (id === undefined) {
      if (call.method === 'POST') return this.create(call);
      if (call.method === 'GET') return this.list(call.query);
      return invalidUrl(call);
    }
    const b = this.byId.get(id);
    if (sub === 'cancel') {
      if (call.method !== 'POST') return invalidUrl(call);
      return b ? this.cancel(b) : batchNotFound(id);
    }
    if (sub !== undefined || call.method !== 'GET') return invalidUrl(call);
    if (!b) return batchNotFound(id);
    return this.locked(b, async () => {
      await this.settle(b, this.now());
      return jsonReply(structuredClone(b.object));
    });
  }

  private create(call: ApiCall): ApiReply {
    const parsed = parseJsonBody(call.body.toString('utf8'));
    if (!parsed.ok) {
      const outcome = parsed.outcome;
      return outcome.kind === 'error' ? { status: outcome.status, json: outcome.body } : invalidRequest('Invalid JSON body.');
    }
    call.record.body = parsed.value;
    if (!isPlainObject(parsed.value)) return invalidRequest('The request body must be a JSON object.');
    const body = parsed.value;
    const checked = checkCreateBody(body, this.dialect);
    if (!checked.ok) return checked.reply;
    const { inputFileId, endpoint, window, metadata } = checked.fields;
    const file = this.files.get(inputFileId);
    if (!file) {
      return apiError(404, { message: `No such File object: ${inputFileId}`, type: 'invalid_request_error', param: 'input_file_id' });
    }
    if (file.purpose !== 'batch') {
      return invalidRequest(
        `The input file ${inputFileId} has purpose '${file.purpose}'; batch input files must be uploaded with purpose 'batch'.`,
        'input_file_id',
        'invalid_value',
      );
    }

    const t = this.now();
    const object: BatchObject = {
      id: newId('batch_', 16),
      object: 'batch',
      endpoint,
      model: null,
      errors: null,
      input_file_id: inputFileId,
      completion_window: window,
      status: 'validating',
      output_file_id: null,
      error_file_id: null,
      created_at: toSeconds(t),
      in_progress_at: null,
      expires_at: toSeconds(t + COMPLETION_WINDOW_MS),
      finalizing_at: null,
      completed_at: null,
      failed_at: null,
      expired_at: null,
      cancelling_at: null,
      cancelled_at: null,
      request_counts: { total: 0, completed: 0, failed: 0 },
      usage: emptyUsage(),
      metadata,
    };
    const state: BatchState = {
      object,
      seq: this.seq++,
      createdMs: t,
      expiresMs: t + COMPLETION_WINDOW_MS,
      phaseStartMs: t,
      lines: [],
      done: 0,
      outLines: [],
      errLines: [],
      lock: Promise.resolve(),
    };
    this.byId.set(object.id, state);
    return jsonReply(structuredClone(object));
  }

  private async list(query: URLSearchParams): Promise<ApiReply> {
    const limit = listLimit(query, 20, 100);
    if (limit === undefined) return invalidRequest("Invalid 'limit': expected an integer between 1 and 100.", 'limit', 'invalid_value');
    const t = this.now();
    const all = [...this.byId.values()];
    await Promise.all(all.map((b) => this.locked(b, () => this.settle(b, t))));
    const newestFirst = all.sort((a, b) => b.seq - a.seq).map((b) => structuredClone(b.object));
    return jsonReply(listPage(newestFirst, query.get('after'), limit));
  }

  private cancel(b: BatchState): Promise<ApiReply> {
    return this.locked(b, async () => {
      const t = this.now();
      await this.settle(b, t);
      const { status } = b.object;
      if (status === 'cancelling' || status === 'cancelled') return jsonReply(structuredClone(b.object));
      if (!RUNNING.has(status)) {
        return apiError(409, { message: `Cannot cancel a batch with status '${status}'.`, type: 'invalid_request_error' });
      }
      startCancelling(b, t);
      await this.settle(b, t);
      return jsonReply(structuredClone(b.object));
    });
  }

  /** Run `fn` after every earlier operation on this batch (they may await the responder). */
  private locked<T>(b: BatchState, fn: () => Promise<T>): Promise<T> {
    const run = b.lock.then(fn);
    b.lock = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Bring the batch to what the clock says at `t`. */
  private async settle(b: BatchState, t: number): Promise<void> {
    const timings = this.timings;
    for (;;) {
      const start = b.phaseStartMs;
      switch (b.object.status) {
        case 'validating': {
          const end = start + timings.validatingMs;
          if (b.expiresMs < end && t >= b.expiresMs) return finishExpired(b, b.expiresMs, this.files);
          if (t < end) return;
          this.validate(b, end);
          continue;
        }
        case 'in_progress': {
          const end = start + timings.inProgressMs;
          if (b.expiresMs < end && t >= b.expiresMs) {
            await this.lineRunner.answerUpTo(b, linesDueAt(b, this.timings, b.expiresMs));
            return finishExpired(b, b.expiresMs, this.files);
          }
          await this.lineRunner.answerUpTo(b, t >= end ? b.lines.length : linesDueAt(b, this.timings, t));
          if (t < end) return;
          startFinalizing(b, end);
          continue;
        }
        case 'finalizing': {
          const end = start + timings.finalizingMs;
          if (t < end) return;
          return finish(b, 'completed', end, this.files);
        }
        case 'cancelling': {
          const end = start + timings.cancellingMs;
          if (t < end) return;
          return finish(b, 'cancelled', end, this.files);
        }
        default:
          return;
      }
    }
  }

  private async force(b: BatchState, to: BatchAdvanceTarget, t: number, opts: AdvanceBatchOptions): Promise<void> {
    const { status } = b.object;
    if (to === 'expired') {
      if (!RUNNING.has(status)) throw new Error(`expireBatch: batch ${b.object.id} is ${status}, it can no longer expire`);
      finishExpired(b, t, this.files);
      return;
    }
    if (to === 'cancelled') {
      if (RUNNING.has(status)) startCancelling(b, t);
      else if (status !== 'cancelling') throw new Error(`advanceBatch: batch ${b.object.id} is ${status}, it cannot be cancelled`);
      finish(b, 'cancelled', t, this.files);
      return;
    }
    const target = FORWARD[to] ?? 0;
    const from = FORWARD[status];
    if (from === undefined || from > target) {
      throw new Error(`advanceBatch: batch ${b.object.id} is ${status}, it cannot move to ${to}`);
    }
    for (let rank = from; rank < target; rank = FORWARD[b.object.status] ?? target) {
      if (b.object.status === 'validating') {
        this.validate(b, t);
      } else if (b.object.status === 'in_progress') {
        await this.lineRunner.answerUpTo(b, b.lines.length);
        startFinalizing(b, t);
      } else {
        finish(b, 'completed', t, this.files);
      }
    }
    if (to === 'in_progress' && opts.lines !== undefined && b.object.status === 'in_progress') {
      await this.lineRunner.answerUpTo(b, Math.min(Math.max(0, Math.floor(opts.lines)), b.lines.length));
    }
  }

  /** End of `validating`: check the input file like the real API, then `failed` or `in_progress`. */
  private validate(b: BatchState, at: number): void {
    const result = checkInput(this.files.content(b.object.input_file_id), b.object.input_file_id, b.object.endpoint, this.timings);
    if (!result.ok) {
      b.object.status = 'failed';
      b.object.failed_at = toSeconds(at);
      b.object.errors = { object: 'list', data: result.errors };
      b.phaseStartMs = at;
      return;
    }
    b.lines = result.lines;
    b.object.model = result.model;
    b.object.request_counts.total = result.lines.length;
    b.object.status = 'in_progress';
    b.object.in_progress_at = toSeconds(at);
    b.phaseStartMs = at;
  }
}
