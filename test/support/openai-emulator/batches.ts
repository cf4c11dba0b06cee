import { randomBytes } from 'node:crypto';

import {
  apiError,
  invalidRequest,
  invalidUrl,
  jsonReply,
  listLimit,
  listPage,
  newId,
  toSeconds,
  type ApiCall,
  type ApiReply,
  type FileStore,
} from './files.js';
import type {
  AdvanceBatchOptions,
  BatchAdvanceTarget,
  BatchLineFaultMatcher,
  BatchLineInfo,
  BatchOptions,
  ChatRequest,
  Fault,
  InjectBatchLineFaultOptions,
  RecordedUsage,
  RowInput,
} from './types.js';
import { CHAT_COMPLETIONS_PATH, parseJsonBody } from './validate.js';

/** OpenAI's limits on one batch input file. */
export const MAX_BATCH_REQUESTS = 50_000;
export const MAX_BATCH_INPUT_BYTES = 200 * 1024 * 1024;
/** The only completion window OpenAI offers; a batch not done by then expires. */
export const COMPLETION_WINDOW_MS = 24 * 60 * 60 * 1000;

export const BATCH_EXPIRED_MESSAGE = 'This request could not be executed before the completion window expired.';

/** Endpoints the real API accepts for a batch; the emulator runs only chat completions. */
/** How a provider's Batch API differs from OpenAI's: the chat endpoint a job and its lines name, the windows it takes. */
export interface BatchDialect {
  endpoint: string;
  windows: RegExp;
  windowsText: string;
}

const BATCH_ENDPOINTS = [
  '/v1/responses',
  '/v1/chat/completions',
  '/v1/embeddings',
  '/v1/completions',
  '/v1/moderations',
  '/v1/images/generations',
  '/v1/images/edits',
  '/v1/videos',
];

/** Validation errors reported in `errors.data` of a failed batch, at most. */
const MAX_REPORTED_ERRORS = 1000;

export type BatchStatus = 'validating' | 'failed' | 'in_progress' | 'finalizing' | 'completed' | 'expired' | 'cancelling' | 'cancelled';

export interface BatchError {
  code: string;
  message: string;
  param: string | null;
  /** 1-based line of the input file; null for file-wide errors. */
  line: number | null;
}

export interface BatchUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

/** The batch object of the Batch API, as GET /v1/batches/:id returns it. */
export interface BatchObject {
  id: string;
  object: 'batch';
  endpoint: string;
  model: string | null;
  errors: { object: 'list'; data: BatchError[] } | null;
  input_file_id: string;
  completion_window: string;
  status: BatchStatus;
  output_file_id: string | null;
  error_file_id: string | null;
  created_at: number;
  in_progress_at: number | null;
  expires_at: number;
  finalizing_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  expired_at: number | null;
  cancelling_at: number | null;
  cancelled_at: number | null;
  request_counts: { total: number; completed: number; failed: number };
  usage: BatchUsage;
  metadata: Record<string, string> | null;
}

/** What the "model" answered for one line: the HTTP status and body POST /v1/chat/completions would send. */
export interface BatchLineAnswer {
  status: number;
  body: unknown;
  usage?: RecordedUsage;
}

/** Answers batch lines the way the chat endpoint answers requests (same responder, cache and checks). */
export type BatchLineModel = (
  body: Record<string, unknown>,
  takeFault: (row: RowInput | undefined, chat: ChatRequest) => Fault | undefined,
) => Promise<BatchLineAnswer>;

interface InputLine {
  customId: string;
  body: Record<string, unknown>;
}

interface BatchState {
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

interface QueuedLineFault {
  fault: Fault;
  remaining: number;
  match: BatchLineFaultMatcher | undefined;
}

interface Timings {
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

function resolveTimings(opts: BatchOptions | undefined): Timings {
  const out: Timings = { ...DEFAULT_TIMINGS };
  for (const key of Object.keys(DEFAULT_TIMINGS) as (keyof Timings)[]) {
    const value = opts?.[key];
    if (value === undefined) continue;
    if (!(value >= 0) || !Number.isFinite(value)) throw new RangeError(`batch.${key} must be a finite number >= 0, got ${value}`);
    out[key] = value;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function emptyUsage(): BatchUsage {
  return {
    input_tokens: 0,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: 0,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: 0,
  };
}

function batchNotFound(id: string): ApiReply {
  return apiError(404, { message: `No batch found with id '${id}'.`, type: 'invalid_request_error', param: 'batch_id' });
}

const RUNNING: ReadonlySet<BatchStatus> = new Set(['validating', 'in_progress', 'finalizing']);
const FORWARD: Partial<Record<BatchStatus, number>> = { validating: 0, in_progress: 1, finalizing: 2, completed: 3 };

/**
 * The Batch API: batches advance through their statuses on the emulator clock, are answered line
 * by line through the chat responder, and leave output / error files in the {@link FileStore}.
 */
export class BatchEngine {
  private readonly byId = new Map<string, BatchState>();
  private faults: QueuedLineFault[] = [];
  private seq = 0;
  private answered = 0;
  private readonly timings: Timings;

  constructor(
    private readonly files: FileStore,
    private readonly model: BatchLineModel,
    private readonly now: () => number,
    options: BatchOptions | undefined,
    /** A provider profile's own Batch API words (profiles.ts): its chat endpoint and the completion windows it takes. */
    private readonly dialect?: BatchDialect,
  ) {
    this.timings = resolveTimings(options);
  }

  /** Batch lines run through the model (answered or failed with an HTTP error) since start / clear(). */
  linesAnswered(): number {
    return this.answered;
  }

  injectLineFault(fault: Fault, opts: InjectBatchLineFaultOptions = {}): void {
    const times = opts.times ?? 1;
    if (!(times > 0)) throw new RangeError(`injectBatchLineFault: times must be > 0, got ${times}`);
    this.faults.push({ fault, remaining: times, match: opts.match });
  }

  pendingLineFaults(): number {
    return this.faults.reduce((sum, f) => sum + f.remaining, 0);
  }

  /** Batches as last computed (no clock advance), oldest first, as deep copies. */
  snapshot(): BatchObject[] {
    return [...this.byId.values()].sort((a, b) => a.seq - b.seq).map((b) => structuredClone(b.object));
  }

  clear(): void {
    this.byId.clear();
    this.faults = [];
    this.answered = 0;
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
    const inputFileId = body['input_file_id'];
    const endpoint = body['endpoint'];
    const window = body['completion_window'];
    const metadata = body['metadata'];
    if (typeof inputFileId !== 'string' || inputFileId === '') {
      return invalidRequest("Missing required parameter: 'input_file_id'.", 'input_file_id', 'missing_required_parameter');
    }
    if (typeof endpoint !== 'string' || endpoint === '') {
      return invalidRequest("Missing required parameter: 'endpoint'.", 'endpoint', 'missing_required_parameter');
    }
    if (this.dialect && endpoint !== this.dialect.endpoint) {
      return invalidRequest(`Invalid value: '${endpoint}'. Supported values are: '${this.dialect.endpoint}'.`, 'endpoint', 'invalid_value');
    }
    if (!this.dialect && !BATCH_ENDPOINTS.includes(endpoint)) {
      return invalidRequest(
        `Invalid value: '${endpoint}'. Supported values are: ${BATCH_ENDPOINTS.map((e) => `'${e}'`).join(', ')}.`,
        'endpoint',
        'invalid_value',
      );
    }
    if (!this.dialect && endpoint !== CHAT_COMPLETIONS_PATH) {
      return invalidRequest(`The emulator only runs batches for '${CHAT_COMPLETIONS_PATH}', not '${endpoint}'.`, 'endpoint', 'invalid_value');
    }
    if (typeof window !== 'string' || window === '') {
      return invalidRequest("Missing required parameter: 'completion_window'.", 'completion_window', 'missing_required_parameter');
    }
    if (this.dialect ? !this.dialect.windows.test(window) : window !== '24h') {
      return invalidRequest(`Invalid value: '${window}'. Supported values are: ${this.dialect?.windowsText ?? "'24h'"}.`, 'completion_window', 'invalid_value');
    }
    const meta = checkMetadata(metadata);
    if (!meta.ok) return meta.reply;
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
      metadata: meta.value,
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
      this.startCancelling(b, t);
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
          if (b.expiresMs < end && t >= b.expiresMs) return this.finishExpired(b, b.expiresMs);
          if (t < end) return;
          this.validate(b, end);
          continue;
        }
        case 'in_progress': {
          const end = start + timings.inProgressMs;
          if (b.expiresMs < end && t >= b.expiresMs) {
            await this.answerUpTo(b, this.linesDueAt(b, b.expiresMs));
            return this.finishExpired(b, b.expiresMs);
          }
          await this.answerUpTo(b, t >= end ? b.lines.length : this.linesDueAt(b, t));
          if (t < end) return;
          this.startFinalizing(b, end);
          continue;
        }
        case 'finalizing': {
          const end = start + timings.finalizingMs;
          if (t < end) return;
          return this.finish(b, 'completed', end);
        }
        case 'cancelling': {
          const end = start + timings.cancellingMs;
          if (t < end) return;
          return this.finish(b, 'cancelled', end);
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
      this.finishExpired(b, t);
      return;
    }
    if (to === 'cancelled') {
      if (RUNNING.has(status)) this.startCancelling(b, t);
      else if (status !== 'cancelling') throw new Error(`advanceBatch: batch ${b.object.id} is ${status}, it cannot be cancelled`);
      this.finish(b, 'cancelled', t);
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
        await this.answerUpTo(b, b.lines.length);
        this.startFinalizing(b, t);
      } else {
        this.finish(b, 'completed', t);
      }
    }
    if (to === 'in_progress' && opts.lines !== undefined && b.object.status === 'in_progress') {
      await this.answerUpTo(b, Math.min(Math.max(0, Math.floor(opts.lines)), b.lines.length));
    }
  }

  /** Lines the clock says are answered by `t`, in proportion to the in_progress time elapsed. */
  private linesDueAt(b: BatchState, t: number): number {
    const { inProgressMs } = this.timings;
    const elapsed = t - b.phaseStartMs;
    if (inProgressMs <= 0 || elapsed >= inProgressMs) return b.lines.length;
    if (elapsed <= 0) return 0;
    return Math.floor((b.lines.length * elapsed) / inProgressMs);
  }

  /** End of `validating`: check the input file like the real API, then `failed` or `in_progress`. */
  private validate(b: BatchState, at: number): void {
    const result = this.checkInput(b.object.input_file_id, b.object.endpoint);
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

  private checkInput(
    fileId: string,
    endpoint: string,
  ): { ok: true; lines: InputLine[]; model: string } | { ok: false; errors: BatchError[] } {
    const content = this.files.content(fileId);
    const fileError = (code: string, message: string): { ok: false; errors: BatchError[] } => ({
      ok: false,
      errors: [{ code, message, param: null, line: null }],
    });
    if (content === undefined) return fileError('invalid_file', `The input file ${fileId} was deleted before the batch was validated.`);
    const { maxInputBytes, maxRequests } = this.timings;
    if (content.length > maxInputBytes) {
      return fileError(
        'file_too_large',
        `The input file is ${content.length} bytes, larger than the maximum of ${maxInputBytes} bytes allowed for a batch.`,
      );
    }
    const rawLines = content.toString('utf8').split('\n');
    let requests = 0;
    for (const raw of rawLines) if (raw.trim() !== '') requests++;
    if (requests === 0) return fileError('empty_file', 'The batch input file is empty. Please provide a file with at least one request.');
    if (requests > maxRequests) {
      return fileError(
        'too_many_tasks',
        `The batch input file contains ${requests} requests, more than the maximum of ${maxRequests} requests per batch.`,
      );
    }

    const errors: BatchError[] = [];
    const report = (line: number, code: string, message: string, param: string | null): void => {
      if (errors.length < MAX_REPORTED_ERRORS) errors.push({ code, message, param, line });
    };
    const lines: InputLine[] = [];
    const seen = new Set<string>();
    let model: string | undefined;
    for (let i = 0; i < rawLines.length; i++) {
      const raw = rawLines[i] ?? '';
      const lineNo = i + 1;
      if (raw.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch {
        report(lineNo, 'invalid_json_line', 'This line is not parseable as valid JSON.', null);
        continue;
      }
      if (!isPlainObject(value)) {
        report(lineNo, 'invalid_json_line', 'This line is not a JSON object.', null);
        continue;
      }
      const customId = value['custom_id'];
      const method = value['method'];
      const url = value['url'];
      const body = value['body'];
      if (typeof customId !== 'string' || customId === '') {
        report(lineNo, 'missing_required_parameter', "Missing required parameter: 'custom_id'.", 'custom_id');
        continue;
      }
      if (method === undefined || method === null) {
        report(lineNo, 'missing_required_parameter', "Missing required parameter: 'method'.", 'method');
        continue;
      }
      if (method !== 'POST') {
        report(lineNo, 'invalid_value', `Invalid value: '${show(method)}'. Supported values are: 'POST'.`, 'method');
        continue;
      }
      if (url === undefined || url === null) {
        report(lineNo, 'missing_required_parameter', "Missing required parameter: 'url'.", 'url');
        continue;
      }
      if (url !== endpoint) {
        report(lineNo, 'url_mismatch', `The provided URL '${show(url)}' does not match the endpoint of the batch: '${endpoint}'.`, 'url');
        continue;
      }
      if (!isPlainObject(body)) {
        report(lineNo, 'missing_required_parameter', "Missing required parameter: 'body'.", 'body');
        continue;
      }
      const lineModel = body['model'];
      if (typeof lineModel !== 'string' || lineModel === '') {
        report(lineNo, 'missing_required_parameter', "Missing required parameter: 'body.model'.", 'body.model');
        continue;
      }
      if (seen.has(customId)) {
        report(
          lineNo,
          'duplicate_custom_id',
          `The custom_id '${customId}' is a duplicate of another request. The custom_id parameter must be unique for each request in a batch.`,
          'custom_id',
        );
        continue;
      }
      seen.add(customId);
      if (model === undefined) {
        model = lineModel;
      } else if (lineModel !== model) {
        report(
          lineNo,
          'model_mismatch',
          `The model '${lineModel}' does not match the model '${model}' of the other requests in this file. A batch must use a single model.`,
          'body.model',
        );
        continue;
      }
      lines.push({ customId, body });
    }
    if (errors.length > 0 || model === undefined) return { ok: false, errors };
    return { ok: true, lines, model };
  }

  /** Answer lines in file order until `count` are done. */
  private async answerUpTo(b: BatchState, count: number): Promise<void> {
    const counts = b.object.request_counts;
    const usage = b.object.usage;
    while (b.done < count) {
      const line = b.lines[b.done];
      if (line === undefined) break;
      const answer = await this.model(line.body, (row, chat) => this.takeFault({ batchId: b.object.id, customId: line.customId, row, body: chat }));
      b.done += 1;
      this.answered += 1;
      const response = { status_code: answer.status, request_id: randomBytes(16).toString('hex'), body: answer.body };
      const entry = JSON.stringify({ id: newId('batch_req_'), custom_id: line.customId, response, error: null });
      if (answer.status < 400) {
        b.outLines.push(entry);
        counts.completed += 1;
      } else {
        b.errLines.push(entry);
        counts.failed += 1;
      }
      if (answer.usage) {
        usage.input_tokens += answer.usage.prompt_tokens;
        usage.input_tokens_details.cached_tokens += answer.usage.cached_tokens;
        usage.output_tokens += answer.usage.completion_tokens;
        usage.total_tokens += answer.usage.total_tokens;
      }
    }
  }

  private takeFault(info: BatchLineInfo): Fault | undefined {
    for (let i = 0; i < this.faults.length; i++) {
      const entry = this.faults[i];
      if (entry === undefined) continue;
      if (entry.match !== undefined && !entry.match(info)) continue;
      entry.remaining -= 1;
      if (entry.remaining <= 0) this.faults.splice(i, 1);
      return entry.fault;
    }
    return undefined;
  }

  private startFinalizing(b: BatchState, at: number): void {
    b.object.status = 'finalizing';
    b.object.finalizing_at = toSeconds(at);
    b.phaseStartMs = at;
  }

  private startCancelling(b: BatchState, at: number): void {
    b.object.status = 'cancelling';
    b.object.cancelling_at = toSeconds(at);
    b.phaseStartMs = at;
  }

  /** Expired: lines not answered yet go to the error file as batch_expired. */
  private finishExpired(b: BatchState, at: number): void {
    for (let i = b.done; i < b.lines.length; i++) {
      const line = b.lines[i];
      if (line === undefined) continue;
      b.errLines.push(
        JSON.stringify({
          id: newId('batch_req_'),
          custom_id: line.customId,
          response: null,
          error: { code: 'batch_expired', message: BATCH_EXPIRED_MESSAGE },
        }),
      );
      b.object.request_counts.failed += 1;
    }
    b.done = b.lines.length;
    this.finish(b, 'expired', at);
  }

  /** Write the output and error files (null ids when empty) and stamp the final status. */
  private finish(b: BatchState, status: 'completed' | 'expired' | 'cancelled', at: number): void {
    const id = b.object.id;
    if (b.outLines.length > 0) {
      b.object.output_file_id = this.files.add(`batch_${id}_output.jsonl`, 'batch_output', Buffer.from(b.outLines.join('\n') + '\n')).id;
    }
    if (b.errLines.length > 0) {
      b.object.error_file_id = this.files.add(`batch_${id}_error.jsonl`, 'batch_output', Buffer.from(b.errLines.join('\n') + '\n')).id;
    }
    b.outLines = [];
    b.errLines = [];
    b.lines = [];
    b.object.status = status;
    const stamp = toSeconds(at);
    if (status === 'completed') b.object.completed_at = stamp;
    else if (status === 'expired') b.object.expired_at = stamp;
    else b.object.cancelled_at = stamp;
    b.phaseStartMs = at;
  }
}

/** Metadata as OpenAI checks it: at most 16 string pairs, keys ≤ 64 and values ≤ 512 characters. */
function checkMetadata(value: unknown): { ok: true; value: Record<string, string> | null } | { ok: false; reply: ApiReply } {
  if (value === undefined || value === null) return { ok: true, value: null };
  const bad = (message: string): { ok: false; reply: ApiReply } => ({ ok: false, reply: invalidRequest(message, 'metadata', 'invalid_value') });
  if (!isPlainObject(value)) return bad("Invalid type for 'metadata': expected an object.");
  const entries = Object.entries(value);
  if (entries.length > 16) {
    return bad(`Invalid 'metadata': too many properties. Expected an object with at most 16 properties, but got ${entries.length}.`);
  }
  const out: Record<string, string> = {};
  for (const [key, v] of entries) {
    if (key.length > 64) return bad(`Invalid 'metadata': key '${key.slice(0, 20)}…' is longer than 64 characters.`);
    if (typeof v !== 'string') return bad(`Invalid type for 'metadata.${key}': expected a string.`);
    if (v.length > 512) return bad(`Invalid 'metadata.${key}': string too long. Expected a string with maximum length 512.`);
    out[key] = v;
  }
  return { ok: true, value: out };
}
