import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { BatchEngine, type BatchLineAnswer, type BatchObject } from './batches.js';
import { EmbeddingsEndpoint } from './embeddings.js';
import { errorBody, errorOutcome, type Outcome } from './errors.js';
import { FaultQueue, faultOutcome } from './faults.js';
import { apiError, FileStore, MAX_UPLOAD_BYTES, type ApiReply, type FileObject } from './files.js';
import { modelsReply } from './models.js';
import { emulatorProfile, type EmulatorProfile } from './profiles.js';
import { DEFAULT_COMPLETION_BUDGET, RateLimiter } from './ratelimit.js';
import { defaultVerdict, extractRow, extractRows, toContent } from './responder.js';
import type {
  AdvanceBatchOptions,
  BatchAdvanceTarget,
  ChatRequest,
  Fault,
  InjectBatchLineFaultOptions,
  InjectFaultOptions,
  Latency,
  OpenAIEmulatorOptions,
  RateLimitOptions,
  RecordedRequest,
  RecordedUsage,
  RespondFn,
  RowInput,
} from './types.js';
import { buildUsage, estimateTokens, PromptCache, promptText, usageBody } from './usage.js';
import { asChatRequest, CHAT_COMPLETIONS_PATH, checkAuth, checkRequest, parseJsonBody } from './validate.js';

const MAX_BODY_BYTES = 8 * 1024 * 1024;

export interface OpenAIEmulator {
  /** Base URL for the SDK: 'http://127.0.0.1:PORT/v1'. */
  readonly url: string;
  /** Every request received (any path), in arrival order. */
  readonly requests: RecordedRequest[];
  /** Requests currently open (arrived, response not finished, socket not closed). */
  readonly inFlight: number;
  /** Highest inFlight seen since start / reset(). */
  readonly peakInFlight: number;
  /** Number of POST /v1/chat/completions received (faulted and rejected ones included). */
  callCount(): number;
  /** Number of POST /v1/embeddings received (rejected ones included). */
  embeddingCallCount(): number;
  /** The next `times` (default 1) matching chat requests get this fault. */
  injectFault(fault: Fault, opts?: InjectFaultOptions): void;
  /** Remaining injected fault uses. */
  pendingFaults(): number;
  clearFaults(): void;
  /** Replace the responder; undefined restores the default verdict. */
  setRespond(fn: RespondFn | undefined): void;
  setLatency(latency: Latency): void;
  /** Replace (or remove with undefined) the enforced rate limits; starts a fresh window. */
  setRateLimit(limits: RateLimitOptions | undefined): void;
  setSupportsJsonSchema(supported: boolean): void;
  /** Resolves once callCount() >= count; rejects after timeoutMs (default 5000). */
  waitForCalls(count: number, timeoutMs?: number): Promise<void>;
  /**
   * The next `times` (default 1) matching batch lines get this fault when the batch answers them:
   * HTTP-error faults (status, rate_limit, insufficient_quota; reset / hang become a 500) put the
   * line in the error file, answer faults (malformed, truncated, refusal, wrong_types, content)
   * put a 200 line with that content in the output file. Separate from chat `injectFault`.
   */
  injectBatchLineFault(fault: Fault, opts?: InjectBatchLineFaultOptions): void;
  /** Remaining injected batch-line fault uses. */
  pendingBatchLineFaults(): number;
  /**
   * Bring the batch up to the clock, then push it on to `to` now (in_progress → every line is
   * answered on the way to finalizing / completed). With `{ lines }` and `in_progress`, answer that
   * many lines first. A file that fails validation stops it at `failed`. Resolves to the batch object.
   */
  advanceBatch(id: string, to: BatchAdvanceTarget, opts?: AdvanceBatchOptions): Promise<BatchObject>;
  /** Expire the batch now: answered lines go to the output file, the rest to the error file as batch_expired. */
  expireBatch(id: string): Promise<BatchObject>;
  /** Every batch, oldest first, as last computed (looking at them through the API or hooks advances them). */
  batches(): BatchObject[];
  /** Every file not deleted (uploads, batch output and error files), oldest first. */
  files(): FileObject[];
  /** A stored file's content as UTF-8 text; undefined when there is no such file. */
  fileText(id: string): string | undefined;
  /** Batch lines run through the model (the responder or an injected line fault) since start / reset(). */
  batchLineCount(): number;
  /** Forget recorded requests, counters, faults, rate windows, cache, files and batches; restore start options. */
  reset(): void;
  /** Stop listening and destroy every socket, hanging ones included. Idempotent. */
  close(): Promise<void>;
  /**
   * An outage: once `answers` chat completions have been answered (200, sent in full), the
   * server goes away as a host does: it stops listening (new connections are refused) and
   * drops the connections open (requests in flight end without an answer).
   */
  goDownAfter(answers: number): void;
}

function newId(prefix: string): string {
  return prefix + randomBytes(12).toString('hex');
}

function sampleLatency(latency: Latency): number {
  if (typeof latency === 'number') return Math.max(0, latency);
  const { mean, jitter } = latency;
  return Math.max(0, mean - jitter + Math.random() * 2 * jitter);
}

interface Waiter {
  count: number;
  resolve: () => void;
}

class EmulatorServer implements OpenAIEmulator {
  url = '';
  readonly requests: RecordedRequest[] = [];
  inFlight = 0;
  peakInFlight = 0;

  private readonly server: Server;
  private readonly faults = new FaultQueue();
  private readonly cache: PromptCache;
  private readonly now: () => number;
  private readonly fileStore: FileStore;
  private readonly batchEngine: BatchEngine;
  private readonly embeddings = new EmbeddingsEndpoint();
  private readonly profile: EmulatorProfile | undefined;
  private respond: RespondFn;
  private latency: Latency;
  private limiter: RateLimiter | undefined;
  private supportsJsonSchema: boolean;
  private calls = 0;
  private answeredChats = 0;
  private downAfter = Infinity;
  private waiters: Waiter[] = [];
  private readonly sleeping = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();
  private closing: Promise<void> | undefined;

  constructor(private readonly opts: OpenAIEmulatorOptions) {
    this.now = opts.now ?? Date.now;
    this.profile = opts.profile === undefined ? undefined : emulatorProfile(opts.profile, this.now);
    this.cache = new PromptCache(opts.promptCacheKeyRpm ?? Infinity, this.now);
    this.respond = opts.respond ?? defaultVerdict;
    this.latency = opts.latencyMs ?? 0;
    this.limiter = opts.rateLimit ? new RateLimiter(opts.rateLimit, this.now) : undefined;
    this.supportsJsonSchema = opts.supportsJsonSchema ?? true;
    this.fileStore = new FileStore(this.now);
    this.batchEngine = new BatchEngine(this.fileStore, (body, takeFault) => this.answerBatchLine(body, takeFault), this.now, opts.batch, this.profile?.batch || undefined);
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        // A bug in the emulator itself: answer 500 rather than leave the client hanging.
        if (!res.headersSent && !res.destroyed) {
          const message = err instanceof Error ? err.message : String(err);
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { message: `emulator crashed: ${message}`, type: 'server_error', param: null, code: null } }));
        }
      });
    });
    this.server.keepAliveTimeout = 5_000;
    this.server.requestTimeout = 0;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port ?? 0, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}/v1`;
  }

  callCount(): number {
    return this.calls;
  }

  embeddingCallCount(): number {
    return this.embeddings.count();
  }

  injectFault(fault: Fault, opts?: InjectFaultOptions): void {
    this.faults.inject(fault, opts);
  }

  pendingFaults(): number {
    return this.faults.pending();
  }

  clearFaults(): void {
    this.faults.clear();
  }

  setRespond(fn: RespondFn | undefined): void {
    this.respond = fn ?? defaultVerdict;
  }

  setLatency(latency: Latency): void {
    this.latency = latency;
  }

  setRateLimit(limits: RateLimitOptions | undefined): void {
    this.limiter = limits ? new RateLimiter(limits, this.now) : undefined;
  }

  setSupportsJsonSchema(supported: boolean): void {
    this.supportsJsonSchema = supported;
  }

  waitForCalls(count: number, timeoutMs = 5_000): Promise<void> {
    if (this.calls >= count) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`openai emulator: waited ${timeoutMs}ms for ${count} calls, got ${this.calls}`));
      }, timeoutMs);
      const waiter: Waiter = {
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.push(waiter);
    });
  }

  injectBatchLineFault(fault: Fault, opts?: InjectBatchLineFaultOptions): void {
    this.batchEngine.injectLineFault(fault, opts);
  }

  pendingBatchLineFaults(): number {
    return this.batchEngine.pendingLineFaults();
  }

  advanceBatch(id: string, to: BatchAdvanceTarget, opts?: AdvanceBatchOptions): Promise<BatchObject> {
    return this.batchEngine.advance(id, to, opts);
  }

  expireBatch(id: string): Promise<BatchObject> {
    return this.batchEngine.advance(id, 'expired');
  }

  batches(): BatchObject[] {
    return this.batchEngine.snapshot();
  }

  files(): FileObject[] {
    return this.fileStore.list();
  }

  fileText(id: string): string | undefined {
    return this.fileStore.content(id)?.toString('utf8');
  }

  batchLineCount(): number {
    return this.batchEngine.linesAnswered();
  }

  reset(): void {
    this.requests.length = 0;
    this.batchEngine.clear();
    this.fileStore.clear();
    this.embeddings.clear();
    this.calls = 0;
    this.peakInFlight = this.inFlight;
    this.faults.clear();
    this.cache.clear();
    this.respond = this.opts.respond ?? defaultVerdict;
    this.latency = this.opts.latencyMs ?? 0;
    this.limiter = this.opts.rateLimit ? new RateLimiter(this.opts.rateLimit, this.now) : undefined;
    this.supportsJsonSchema = this.opts.supportsJsonSchema ?? true;
  }

  goDownAfter(answers: number): void {
    this.downAfter = answers;
    if (this.answeredChats >= answers) void this.close();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      this.server.closeAllConnections();
      for (const s of this.sleeping) {
        clearTimeout(s.timer);
        s.wake();
      }
      this.sleeping.clear();
      await closed;
      // Sockets are destroyed; let their 'close' events run so inFlight drains before we resolve.
      for (let i = 0; i < 100 && this.inFlight > 0; i++) await new Promise<void>((resolve) => setImmediate(resolve));
    })();
    return this.closing;
  }

  /** The key as "Bearer <key>", from the header this provider takes it in. */
  private authorization(record: RecordedRequest): string | undefined | null {
    return this.profile ? this.profile.authorization(record.headers) : record.headers.authorization;
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.closing) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.sleeping.delete(entry);
          resolve();
        }, ms),
        wake: resolve,
      };
      this.sleeping.add(entry);
    });
  }

  private countCall(): void {
    this.calls += 1;
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((w) => w.count <= this.calls);
    this.waiters = this.waiters.filter((w) => w.count > this.calls);
    for (const w of ready) w.resolve();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = newId('req_');
    const url = new URL(req.url ?? '/', 'http://emulator.invalid');
    const routed = this.profile?.route?.(url.pathname, url.searchParams);
    if (routed && 'refused' in routed) {
      res.writeHead(routed.refused.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(routed.refused.body));
      return;
    }
    const path = routed?.path ?? url.pathname;
    const record: RecordedRequest = {
      requestId,
      method: req.method ?? 'GET',
      path,
      ...(url.search === '' ? {} : { query: Object.fromEntries(url.searchParams) }),
      headers: req.headers,
      body: undefined,
      status: 0,
      startedAt: Date.now(),
    };
    this.requests.push(record);
    this.inFlight += 1;
    if (this.inFlight > this.peakInFlight) this.peakInFlight = this.inFlight;
    res.once('close', () => {
      this.inFlight -= 1;
      record.endedAt = Date.now();
      if (this.opts.recordBodies === false) {
        record.body = undefined;
        delete record.content;
        record.headers = {};
      }
    });
    res.setHeader('x-request-id', requestId);

    const resource = apiResource(path) ?? (this.profile?.keyRoute && path === '/v1/key' ? 'key' : undefined);
    if (resource !== undefined) {
      await this.handleApi(req, res, record, resource);
      return;
    }

    const isChat = record.method === 'POST' && path === CHAT_COMPLETIONS_PATH;
    if (isChat) this.countCall();
    if (isChat) {
      res.once('finish', () => {
        if (record.status === 200 && ++this.answeredChats >= this.downAfter) void this.close();
      });
    }

    const raw = (await readBody(req, MAX_BODY_BYTES))?.toString('utf8');
    const startedMs = Date.now();
    const outcome = raw === undefined ? errorOutcome(413, { message: 'Request body too large.', type: 'invalid_request_error' }) : await this.decide(record, raw, isChat);
    await this.sleep(sampleLatency(this.latency));
    if (outcome.kind !== 'completion' && outcome.fault !== undefined) record.fault = outcome.fault;
    this.send(req, res, record, outcome, Date.now() - startedMs);
  }

  private async decide(record: RecordedRequest, raw: string, isChat: boolean): Promise<Outcome> {
    if (!isChat) {
      return errorOutcome(404, { message: `Invalid URL (${record.method} ${record.path})`, type: 'invalid_request_error' });
    }
    const authorization = this.authorization(record);
    if (this.opts.authorize) {
      const denied = this.opts.authorize(authorization ?? undefined);
      if (denied) return { kind: 'error', status: denied.status, body: denied.body };
    } else if (this.opts.apiKey !== undefined && authorization !== null) {
      const denied = checkAuth(authorization, this.opts.apiKey);
      if (denied) return this.profile?.wrongKey?.() ?? denied;
    }
    const parsed = parseJsonBody(raw);
    if (!parsed.ok) return parsed.outcome;
    record.body = parsed.value;
    const chat = asChatRequest(parsed.value);
    if (!isChatRequest(chat)) return chat;
    record.model = chat.model;
    if (typeof chat.prompt_cache_key === 'string') record.promptCacheKey = chat.prompt_cache_key;
    const row = extractRow(chat);
    if (row !== undefined) record.row = row;

    const fault = this.faults.take(row, chat);
    if (fault?.kind === 'rate_limit' && this.profile) {
      return { ...this.profile.rateLimited(fault.retryAfterMs ?? (fault.retryAfterSeconds ?? 1) * 1000), fault: 'rate_limit' };
    }
    if (fault !== undefined) {
      const outcome = faultOutcome(fault, row, chat.model);
      if (outcome.kind === 'completion') this.complete(record, chat, outcome);
      return outcome;
    }

    if (this.profile && this.opts.models !== undefined && !this.opts.models.includes(chat.model)) return this.profile.modelNotFound(chat.model);
    const refused = this.refusal(chat);
    if (refused) return refused;
    const rejected = checkRequest(chat, { models: this.opts.models, supportsJsonSchema: this.supportsJsonSchema, outputCaps: this.opts.outputCaps });
    if (rejected) return rejected;

    if (this.limiter) {
      const budget = chat.max_completion_tokens ?? chat.max_tokens ?? DEFAULT_COMPLETION_BUDGET;
      const cost = estimateTokens(promptText(chat.messages).length) + budget;
      const decision = this.limiter.admit(cost, chat.model);
      if (!decision.ok && this.profile) return { ...this.profile.rateLimited(decision.retryAfterMs), fault: `rate_limit:${decision.type}` };
      if (!decision.ok) {
        return {
          ...errorOutcome(
            429,
            { message: decision.message, type: decision.type, code: 'rate_limit_exceeded' },
            {
              'retry-after': String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000))),
              'retry-after-ms': String(Math.max(0, Math.ceil(decision.retryAfterMs))),
            },
          ),
          fault: `rate_limit:${decision.type}`,
        };
      }
    }

    let content: string;
    try {
      content = await this.answerFor(row, chat);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return errorOutcome(500, { message: `emulator respond() threw: ${message}`, type: 'server_error' });
    }
    const outcome: Outcome = { kind: 'completion', content, finishReason: 'stop' };
    this.complete(record, chat, outcome);
    return outcome;
  }

  /**
   * The "model's" answer: the responder's verdict for the row, or for a packed request
   * one result per labelled row (rows whose responder answer is raw text are left out).
   */
  private async answerFor(row: RowInput | undefined, chat: ChatRequest): Promise<string> {
    const rows = extractRows(chat);
    if (!rows) return toContent(await this.respond(row ?? {}, chat));
    const results: unknown[] = [];
    for (const r of rows) {
      const answer = await this.respond(r, chat);
      if (typeof answer !== 'string') results.push({ row: r.row, ...answer });
    }
    return JSON.stringify({ results });
  }

  /** Usage (with simulated prompt caching) for an answer the "model" produced. */
  private complete(record: RecordedRequest, chat: ChatRequest, outcome: Extract<Outcome, { kind: 'completion' }>): void {
    record.usage = this.usageFor(chat, outcome);
    record.content = outcome.content;
    if (outcome.fault !== undefined) record.fault = outcome.fault;
  }

  private usageFor(chat: ChatRequest, outcome: Extract<Outcome, { kind: 'completion' }>): RecordedUsage {
    const prompt = promptText(chat.messages);
    const promptTokens = estimateTokens(prompt.length);
    const key = typeof chat.prompt_cache_key === 'string' ? chat.prompt_cache_key : undefined;
    const cached = this.profile?.cachedTokens === false ? 0 : this.cache.lookup(key, prompt);
    const produced = outcome.content ?? outcome.refusal ?? '';
    return buildUsage(promptTokens, produced.length, cached);
  }

  /** One batch line, answered as POST /v1/chat/completions would be (minus latency and rate limits). */
  /** What the profile refuses in this request, the fields this deployment knows (`acceptedFields`) set aside. */
  private refusal(chat: ChatRequest): Outcome | undefined {
    const accepted = this.opts.acceptedFields;
    if (!this.profile || !accepted || accepted.length === 0) return this.profile?.refuse(chat);
    const known = Object.fromEntries(Object.entries(chat).filter(([field]) => !accepted.includes(field))) as ChatRequest;
    return this.profile.refuse(known);
  }

  private async answerBatchLine(
    body: Record<string, unknown>,
    takeFault: (row: RowInput | undefined, chat: ChatRequest) => Fault | undefined,
  ): Promise<BatchLineAnswer> {
    const chat = asChatRequest(body);
    if (!isChatRequest(chat)) return lineAnswer(chat);
    const row = extractRow(chat);
    const fault = takeFault(row, chat);
    let outcome: Outcome | undefined = fault === undefined ? undefined : faultOutcome(fault, row, chat.model);
    // A line's body is a chat request like any other: what the provider refuses in one, it
    // refuses here too, and the line ends in the error file (https://platform.openai.com/docs/guides/batch).
    outcome ??= this.refusal(chat);
    outcome ??= checkRequest(chat, { models: this.opts.models, supportsJsonSchema: this.supportsJsonSchema, outputCaps: this.opts.outputCaps });
    if (outcome === undefined) {
      try {
        outcome = { kind: 'completion', content: await this.answerFor(row, chat), finishReason: 'stop' };
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        outcome = errorOutcome(500, { message: `emulator respond() threw: ${message}`, type: 'server_error' });
      }
    }
    if (outcome.kind !== 'completion') return lineAnswer(outcome);
    const usage = this.usageFor(chat, outcome);
    return { status: 200, body: chatCompletionBody(chat.model, usage, outcome), usage };
  }

  /** /v1/files…, /v1/batches…, /v1/embeddings and /v1/models: auth, then the file store, the batch engine, the embedder or the model list. */
  private async handleApi(req: IncomingMessage, res: ServerResponse, record: RecordedRequest, resource: ApiResource): Promise<void> {
    const body = await readBody(req, MAX_UPLOAD_BYTES);
    const startedMs = Date.now();
    let reply: ApiReply;
    const keyless = resource === 'models' && this.profile?.modelsWithoutKey === true;
    const authorization = this.authorization(record);
    const authorize = this.opts.authorize;
    const refused = authorize && !keyless ? authorize(authorization ?? undefined) : undefined;
    const checked = authorize || this.opts.apiKey === undefined || keyless || authorization === null ? undefined : checkAuth(authorization, this.opts.apiKey);
    const denied = refused
      ? ({ kind: 'error', status: refused.status, body: refused.body } as const)
      : checked === undefined
        ? undefined
        : (this.profile?.wrongKey?.() ?? checked);
    if (denied?.kind === 'error') {
      reply = { status: denied.status, json: denied.body };
    } else if (body === undefined) {
      reply = apiError(413, { message: 'Request body too large.', type: 'invalid_request_error' });
    } else {
      const url = new URL(req.url ?? '/', 'http://emulator.invalid');
      const call = {
        method: record.method,
        parts: record.path.split('/').filter((p) => p !== '').slice(1).map(decodeURIComponent),
        query: url.searchParams,
        body,
        contentType: req.headers['content-type'],
        record,
      };
      if (resource === 'key') reply = keyReply(call.method);
      else if (resource === 'models') reply = modelsReply(call, this.opts.models);
      else if (resource === 'embeddings') reply = this.profile?.embeddings === false ? apiError(404, { message: `Invalid URL (${call.method} ${record.path})`, type: 'invalid_request_error' }) : this.embeddings.handle(call);
      else if (resource === 'batches' && this.profile?.batch === false) reply = apiError(404, { message: `Invalid URL (${call.method} ${record.path})`, type: 'invalid_request_error' });
      else reply = resource === 'files' ? await this.fileStore.handle(call) : await this.batchEngine.handle(call);
    }
    if (this.closing || res.destroyed || res.writableEnded || req.socket.destroyed) return;
    record.status = reply.status;
    res.writeHead(reply.status, {
      'openai-version': '2020-10-01',
      'openai-processing-ms': String(Date.now() - startedMs),
      'content-type': reply.contentType ?? 'application/json',
    });
    res.end(reply.raw ?? JSON.stringify(reply.json ?? null));
  }

  private send(req: IncomingMessage, res: ServerResponse, record: RecordedRequest, outcome: Outcome, processingMs: number): void {
    if (this.closing || res.destroyed || res.writableEnded || req.socket.destroyed) return;
    if (outcome.kind === 'hang') return; // until the client gives up or close() destroys the socket
    if (outcome.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    const limits = this.limiter?.headers() ?? {};
    const headers: Record<string, string> = {
      'openai-version': '2020-10-01',
      'openai-processing-ms': String(processingMs),
      ...(this.profile ? this.profile.headers(limits) : limits),
      ...this.opts.extraHeaders,
    };
    let status: number;
    let payload: string;
    if (outcome.kind === 'error') {
      status = outcome.status;
      Object.assign(headers, outcome.headers);
      if (typeof outcome.body === 'string') {
        headers['content-type'] ??= 'text/plain; charset=utf-8';
        payload = outcome.body;
      } else {
        headers['content-type'] ??= 'application/json';
        payload = JSON.stringify(outcome.body ?? null);
      }
    } else {
      status = 200;
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(this.completionBody(record, outcome));
    }
    record.status = status;
    res.writeHead(status, headers);
    res.end(payload);
  }

  private completionBody(record: RecordedRequest, outcome: Extract<Outcome, { kind: 'completion' }>): unknown {
    return chatCompletionBody(record.model ?? 'unknown', record.usage ?? buildUsage(0, 0, 0), outcome);
  }
}

/** A chat.completion body for an answer. */
function chatCompletionBody(model: string, usage: RecordedUsage, outcome: Extract<Outcome, { kind: 'completion' }>): unknown {
  return {
    id: newId('chatcmpl-'),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        finish_reason: outcome.finishReason,
        logprobs: null,
        message: { role: 'assistant', content: outcome.content, refusal: outcome.refusal ?? null, annotations: [] },
      },
    ],
    usage: usageBody(usage),
    service_tier: 'default',
    system_fingerprint: 'fp_emulator',
  };
}

type ApiResource = 'files' | 'batches' | 'embeddings' | 'models' | 'key';

/** OpenRouter's GET /api/v1/key (https://openrouter.ai/docs/api/api-reference/api-keys/get-current-key.md): the key's details. */
function keyReply(method: string): ApiReply {
  if (method !== 'GET') return apiError(405, { message: `Method ${method} not allowed on /v1/key.`, type: 'invalid_request_error' });
  return { status: 200, json: { data: { label: 'sk-or-v1-emu...', limit: null, limit_remaining: null, usage: 0, is_free_tier: false } } };
}

/** Which Files/Batches/Embeddings resource a path belongs to, if any. */
function apiResource(path: string): ApiResource | undefined {
  for (const resource of ['files', 'batches', 'embeddings', 'models'] as const) {
    const root = `/v1/${resource}`;
    if (path === root || path.startsWith(`${root}/`)) return resource;
  }
  return undefined;
}

/** A batch line's answer for an outcome that is not a completion (reset / hang become a 500). */
function lineAnswer(outcome: Outcome): BatchLineAnswer {
  if (outcome.kind === 'error') return { status: outcome.status, body: outcome.body };
  return {
    status: 500,
    body: errorBody({ message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error' }),
  };
}

function isChatRequest(value: ChatRequest | Outcome): value is ChatRequest {
  return 'messages' in value;
}

/** The request body; undefined when it exceeds `maxBytes`. */
function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) tooBig = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooBig ? undefined : Buffer.concat(chunks)));
    req.on('error', () => resolve(Buffer.alloc(0)));
    req.on('close', () => resolve(tooBig ? undefined : Buffer.concat(chunks)));
  });
}

export async function startOpenAIEmulator(opts: OpenAIEmulatorOptions = {}): Promise<OpenAIEmulator> {
  const emu = new EmulatorServer(opts);
  await emu.listen();
  return emu;
}
