import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { BatchEngine, type BatchObject } from './batches.js';
import { ChatModel, newId } from './chat.js';
import { EmbeddingsEndpoint } from './embeddings.js';
import type { OpenAIEmulator } from './emulator.js';
import { errorOutcome, type Outcome } from './errors.js';
import { FileStore, type FileObject } from './files.js';
import { emulatorProfile, type EmulatorProfile } from './profiles.js';
import { defaultVerdict } from './responder.js';
import { apiResource, handleApi, readBody, sendOutcome, type ApiContext } from './routes.js';
import type {
  AdvanceBatchOptions,
  BatchAdvanceTarget,
  Fault,
  InjectBatchLineFaultOptions,
  InjectFaultOptions,
  Latency,
  OpenAIEmulatorOptions,
  RateLimitOptions,
  RecordedRequest,
  RespondFn,
} from './types.js';
import { CHAT_COMPLETIONS_PATH } from './validate.js';

// The emulator's server: it listens, records and counts requests, routes them (routes.ts for the
// Files/Batches/Embeddings/Models APIs, chat.ts for chat completions), and carries the test hooks.
export type { OpenAIEmulator } from './emulator.js';

const MAX_BODY_BYTES = 8 * 1024 * 1024;

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
  private readonly chat: ChatModel;
  private readonly now: () => number;
  private readonly fileStore: FileStore;
  private readonly batchEngine: BatchEngine;
  private readonly embeddings = new EmbeddingsEndpoint();
  private readonly profile: EmulatorProfile | undefined;
  private latency: Latency;
  private calls = 0;
  private answeredChats = 0;
  private downAfter = Infinity;
  private waiters: Waiter[] = [];
  private readonly sleeping = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();
  private closing: Promise<void> | undefined;
  private readonly apiContext: ApiContext;

  constructor(private readonly opts: OpenAIEmulatorOptions) {
    this.now = opts.now ?? Date.now;
    this.profile = opts.profile === undefined ? undefined : emulatorProfile(opts.profile, this.now);
    this.chat = new ChatModel(opts, this.profile, this.now);
    this.latency = opts.latencyMs ?? 0;
    this.fileStore = new FileStore(this.now);
    this.batchEngine = new BatchEngine(this.fileStore, (body, takeFault) => this.chat.answerBatchLine(body, takeFault), this.now, opts.batch, this.profile?.batch || undefined);
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
    this.apiContext = {
      opts,
      profile: this.profile,
      fileStore: this.fileStore,
      batchEngine: this.batchEngine,
      embeddings: this.embeddings,
      closing: () => this.closing !== undefined,
    };
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
    this.chat.faults.inject(fault, opts);
  }

  pendingFaults(): number {
    return this.chat.faults.pending();
  }

  clearFaults(): void {
    this.chat.faults.clear();
  }

  setRespond(fn: RespondFn | undefined): void {
    this.chat.respond = fn ?? defaultVerdict;
  }

  setLatency(latency: Latency): void {
    this.latency = latency;
  }

  setRateLimit(limits: RateLimitOptions | undefined): void {
    this.chat.setRateLimit(limits);
  }

  setSupportsJsonSchema(supported: boolean): void {
    this.chat.supportsJsonSchema = supported;
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
    this.chat.reset();
    this.latency = this.opts.latencyMs ?? 0;
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
      await handleApi(this.apiContext, req, res, record, resource);
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
    const outcome = raw === undefined ? errorOutcome(413, { message: 'Request body too large.', type: 'invalid_request_error' }) : await this.chat.decide(record, raw, isChat);
    await this.sleep(sampleLatency(this.latency));
    if (outcome.kind !== 'completion' && outcome.fault !== undefined) record.fault = outcome.fault;
    this.send(req, res, record, outcome, Date.now() - startedMs);
  }

  private send(req: IncomingMessage, res: ServerResponse, record: RecordedRequest, outcome: Outcome, processingMs: number): void {
    if (this.closing || res.destroyed || res.writableEnded || req.socket.destroyed) return;
    sendOutcome(req, res, record, outcome, () => {
      const limits = this.chat.limiter?.headers() ?? {};
      return {
        'openai-version': '2020-10-01',
        'openai-processing-ms': String(processingMs),
        ...(this.profile ? this.profile.headers(limits) : limits),
        ...this.opts.extraHeaders,
      };
    });
  }
}

export async function startOpenAIEmulator(opts: OpenAIEmulatorOptions = {}): Promise<OpenAIEmulator> {
  const emu = new EmulatorServer(opts);
  await emu.listen();
  return emu;
}
