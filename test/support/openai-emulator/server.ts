import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { errorOutcome, type Outcome } from './errors.js';
import { FaultQueue, faultOutcome } from './faults.js';
import { DEFAULT_COMPLETION_BUDGET, RateLimiter } from './ratelimit.js';
import { defaultVerdict, extractRow, toContent } from './responder.js';
import type {
  ChatRequest,
  Fault,
  InjectFaultOptions,
  Latency,
  OpenAIEmulatorOptions,
  RateLimitOptions,
  RecordedRequest,
  RespondFn,
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
  /** Forget recorded requests, counters, faults, rate windows and cache; restore start options. */
  reset(): void;
  /** Stop listening and destroy every socket, hanging ones included. Idempotent. */
  close(): Promise<void>;
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
  private readonly cache = new PromptCache();
  private readonly now: () => number;
  private respond: RespondFn;
  private latency: Latency;
  private limiter: RateLimiter | undefined;
  private supportsJsonSchema: boolean;
  private calls = 0;
  private waiters: Waiter[] = [];
  private readonly sleeping = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();
  private closing: Promise<void> | undefined;

  constructor(private readonly opts: OpenAIEmulatorOptions) {
    this.now = opts.now ?? Date.now;
    this.respond = opts.respond ?? defaultVerdict;
    this.latency = opts.latencyMs ?? 0;
    this.limiter = opts.rateLimit ? new RateLimiter(opts.rateLimit, this.now) : undefined;
    this.supportsJsonSchema = opts.supportsJsonSchema ?? true;
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

  reset(): void {
    this.requests.length = 0;
    this.calls = 0;
    this.peakInFlight = this.inFlight;
    this.faults.clear();
    this.cache.clear();
    this.respond = this.opts.respond ?? defaultVerdict;
    this.latency = this.opts.latencyMs ?? 0;
    this.limiter = this.opts.rateLimit ? new RateLimiter(this.opts.rateLimit, this.now) : undefined;
    this.supportsJsonSchema = this.opts.supportsJsonSchema ?? true;
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
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const record: RecordedRequest = {
      requestId,
      method: req.method ?? 'GET',
      path,
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

    const isChat = record.method === 'POST' && path === CHAT_COMPLETIONS_PATH;
    if (isChat) this.countCall();

    const raw = await readBody(req);
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
    if (this.opts.apiKey !== undefined) {
      const denied = checkAuth(record.headers.authorization, this.opts.apiKey);
      if (denied) return denied;
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
    if (fault !== undefined) {
      const outcome = faultOutcome(fault, row);
      if (outcome.kind === 'completion') this.complete(record, chat, outcome);
      return outcome;
    }

    const rejected = checkRequest(chat, { models: this.opts.models, supportsJsonSchema: this.supportsJsonSchema });
    if (rejected) return rejected;

    if (this.limiter) {
      const budget = chat.max_completion_tokens ?? chat.max_tokens ?? DEFAULT_COMPLETION_BUDGET;
      const cost = estimateTokens(promptText(chat.messages).length) + budget;
      const decision = this.limiter.admit(cost, chat.model);
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
      content = toContent(await this.respond(row ?? {}, chat));
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return errorOutcome(500, { message: `emulator respond() threw: ${message}`, type: 'server_error' });
    }
    const outcome: Outcome = { kind: 'completion', content, finishReason: 'stop' };
    this.complete(record, chat, outcome);
    return outcome;
  }

  /** Usage (with simulated prompt caching) for an answer the "model" produced. */
  private complete(record: RecordedRequest, chat: ChatRequest, outcome: Extract<Outcome, { kind: 'completion' }>): void {
    const prompt = promptText(chat.messages);
    const promptTokens = estimateTokens(prompt.length);
    const cached = this.cache.lookup(record.promptCacheKey, prompt);
    const produced = outcome.content ?? outcome.refusal ?? '';
    record.usage = buildUsage(promptTokens, produced.length, cached);
    record.content = outcome.content;
    if (outcome.fault !== undefined) record.fault = outcome.fault;
  }

  private send(req: IncomingMessage, res: ServerResponse, record: RecordedRequest, outcome: Outcome, processingMs: number): void {
    if (this.closing || res.destroyed || res.writableEnded || req.socket.destroyed) return;
    if (outcome.kind === 'hang') return; // until the client gives up or close() destroys the socket
    if (outcome.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    const headers: Record<string, string> = {
      'openai-version': '2020-10-01',
      'openai-processing-ms': String(processingMs),
      ...this.limiter?.headers(),
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
    const usage = record.usage ?? buildUsage(0, 0, 0);
    return {
      id: newId('chatcmpl-'),
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: record.model ?? 'unknown',
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
}

function isChatRequest(value: ChatRequest | Outcome): value is ChatRequest {
  return 'messages' in value;
}

/** The request body as text; undefined when it exceeds the size cap. */
function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooBig = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooBig ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(''));
    req.on('close', () => resolve(tooBig ? undefined : Buffer.concat(chunks).toString('utf8')));
  });
}

export async function startOpenAIEmulator(opts: OpenAIEmulatorOptions = {}): Promise<OpenAIEmulator> {
  const emu = new EmulatorServer(opts);
  await emu.listen();
  return emu;
}
