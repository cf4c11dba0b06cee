/** The request pipeline: record → hooks → latency → faults → auth → quota → serve. */
import type { Evaluate } from './cells.js';
import { dispatch } from './dispatch.js';
import { ApiError, PAYLOAD_LIMIT_BYTES, URL_LIMIT_BYTES, defaultMessage, googleStatus, notFound, payloadTooLarge, permissionDenied, quotaExceeded, unauthenticated, urlTooLargePage } from './errors.js';
import { SheetsQuota } from './quota.js';
import { readBearer, route } from './router.js';
import { allowed } from './sharing.js';
import type { HttpRequest, HttpResponse } from './server.js';
import type { CallKind, Fault, FaultOptions, PendingCall, RecordedCall, RequestHook, ResponseHook } from './types.js';
import type { Spreadsheet } from './workbook.js';

interface ArmedFault {
  fault: Fault;
  kind: CallKind | undefined;
  remaining: number;
  match: ((call: PendingCall) => boolean) | undefined;
}

function rangesOf(op: string, query: URLSearchParams, body: unknown): string[] | undefined {
  if (op === 'values.batchGet') return query.getAll('ranges');
  const b = body !== null && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  if (op === 'values.batchGetByDataFilter' && Array.isArray(b['dataFilters'])) {
    return (b['dataFilters'] as unknown[]).map((f) => {
      const range = (f as Record<string, unknown> | null)?.['a1Range'];
      return typeof range === 'string' ? range : '';
    });
  }
  if (op === 'values.batchClear' && Array.isArray(b['ranges'])) return (b['ranges'] as unknown[]).map(String);
  if (op === 'values.batchUpdate' && Array.isArray(b['data'])) {
    return (b['data'] as unknown[]).map((d) => {
      const range = (d as Record<string, unknown> | null)?.['range'];
      return typeof range === 'string' ? range : '';
    });
  }
  return undefined;
}

function inputOptionOf(query: URLSearchParams, body: unknown): string | undefined {
  const q = query.get('valueInputOption');
  if (q !== null) return q;
  const b = body !== null && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  return typeof b['valueInputOption'] === 'string' ? b['valueInputOption'] : undefined;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class Pipeline {
  readonly calls: RecordedCall[] = [];
  readonly books = new Map<string, Spreadsheet>();
  readonly readQuota: SheetsQuota;
  readonly writeQuota: SheetsQuota;
  reads = 0;
  writes = 0;
  lastCaller: string | undefined = undefined;
  readonly callers = new Set<string>();
  readonly hookErrors: unknown[] = [];
  latencyMs: number;
  payloadLimitBytes = PAYLOAD_LIMIT_BYTES;
  urlLimitBytes = URL_LIMIT_BYTES;
  /** Read processing rate (cells returned per second); Infinity: reads cost no time. */
  readCellsPerSecond = Infinity;
  /** Google's processing deadline for one request (https://developers.google.com/sheets/api/limits: 180 s). */
  deadlineMs = DEADLINE_MS;
  private hooks: RequestHook[] = [];
  private responseHooks: ResponseHook[] = [];
  private faults: ArmedFault[] = [];

  constructor(
    readonly now: () => number,
    readQuota: number,
    writeQuota: number,
    projectQuota: { read: number; write: number },
    latencyMs: number,
    readonly requireAuth: boolean,
    readonly recordBodies: boolean,
    readonly evaluate: Evaluate,
  ) {
    this.readQuota = new SheetsQuota(readQuota, projectQuota.read);
    this.writeQuota = new SheetsQuota(writeQuota, projectQuota.write);
    this.latencyMs = latencyMs;
  }

  onRequest(hook: RequestHook): () => void {
    this.hooks.push(hook);
    return () => {
      this.hooks = this.hooks.filter((h) => h !== hook);
    };
  }

  onResponse(hook: ResponseHook): () => void {
    this.responseHooks.push(hook);
    return () => {
      this.responseHooks = this.responseHooks.filter((h) => h !== hook);
    };
  }

  injectFault(fault: Fault, opts: FaultOptions = {}): void {
    this.faults.push({ fault, kind: opts.kind, remaining: opts.times ?? 1, match: opts.match });
  }

  clearFaults(): void {
    this.faults = [];
  }

  pendingFaults(): number {
    return this.faults.length;
  }

  async handle(req: HttpRequest): Promise<HttpResponse> {
    const r = route(req.method, req.path);
    const bearer = readBearer(req.authorization);
    const call: Mutable<RecordedCall> = { kind: r.kind, op: r.op, method: req.method, path: req.path, at: this.now(), status: 0, bodyBytes: req.bodyBytes, urlBytes: req.urlBytes };
    if (r.spreadsheetId !== undefined) call.spreadsheetId = r.spreadsheetId;
    if (r.range !== undefined) call.range = r.range;
    const ranges = rangesOf(r.op, req.query, req.body);
    if (ranges) call.ranges = ranges;
    if (this.recordBodies && req.body !== undefined) call.body = req.body;
    const vio = inputOptionOf(req.query, req.body);
    if (vio !== undefined) call.valueInputOption = vio;
    if (bearer.caller !== undefined) {
      call.caller = bearer.caller;
      this.lastCaller = bearer.caller;
      this.callers.add(bearer.caller);
    }
    this.calls.push(call);
    if (call.kind === 'read') this.reads += 1;
    else this.writes += 1;
    const out = await this.serve(call, req, bearer.present).catch((err: unknown) => this.fail(err));
    call.status = out.destroySocket ? 0 : out.status;
    for (const hook of this.responseHooks.slice()) {
      try {
        await hook(call);
      } catch (err) {
        this.hookErrors.push(err);
      }
    }
    return out;
  }

  private fail(err: unknown): HttpResponse {
    const api = err instanceof ApiError ? err : new ApiError(500, `Internal error encountered. (${String(err)})`);
    return { status: api.code, body: api.toBody() };
  }

  private async serve(call: RecordedCall, req: HttpRequest, authorised: boolean): Promise<HttpResponse> {
    // Google's front end refuses a URL too long before the API sees it: no hook, no quota, nothing changed.
    if (req.urlBytes > this.urlLimitBytes) return { status: 414, text: urlTooLargePage(req.path), headers: { 'content-type': 'text/html; charset=UTF-8' } };
    for (const hook of this.hooks.slice()) {
      try {
        await hook(call);
      } catch (err) {
        this.hookErrors.push(err);
        throw new ApiError(500, `Internal error encountered. (request hook threw: ${String(err)})`);
      }
    }
    if (this.latencyMs > 0) await sleep(this.latencyMs);
    const fault = this.takeFault(call);
    if (fault && !fault.afterServe) return fault.response;
    if (this.requireAuth && !authorised) throw unauthenticated();
    if (req.bodyError !== undefined) throw new ApiError(400, `Invalid JSON payload received. ${req.bodyError}`);
    if (call.op === 'unknown') throw new ApiError(404, 'Method not found.', 'NOT_FOUND');
    const quota = call.kind === 'read' ? this.readQuota : this.writeQuota;
    const refused = quota.tryTake(this.now(), call.caller);
    if (refused) throw quotaExceeded(call.kind, refused === 'user' ? quota.limit : quota.projectLimit, refused);
    // Refused after the quota is taken: a request too large still counts against it.
    if (req.bodyBytes > this.payloadLimitBytes) throw payloadTooLarge(this.payloadLimitBytes);
    const book = this.books.get(call.spreadsheetId ?? '');
    if (!book) throw notFound();
    if (book.forbidden) throw permissionDenied();
    if (!allowed(book, call.kind, call.caller)) throw permissionDenied();
    const body = dispatch(call.op, book, call.range, req.query, req.body, this.evaluate);
    if (call.kind === 'read' && Number.isFinite(this.readCellsPerSecond)) await this.process(cellsIn(body));
    // Applied, and the answer lost on the way back.
    if (fault) return fault.response;
    return { status: 200, body };
  }

  /**
   * A read's processing time at the configured rate; past the deadline, the answer Google
   * gives a request processed for more than 180 seconds ("the request returns a timeout
   * error", https://developers.google.com/sheets/api/limits): 504 DEADLINE_EXCEEDED, the
   * status Google APIs map that code to (https://cloud.google.com/apis/design/errors#handling_errors).
   */
  private async process(cells: number): Promise<void> {
    const ms = (cells / this.readCellsPerSecond) * 1000;
    if (ms <= this.deadlineMs) {
      if (ms >= 1) await sleep(ms);
      return;
    }
    await sleep(this.deadlineMs);
    throw new ApiError(504, 'Deadline exceeded: the request took longer than the processing limit.', 'DEADLINE_EXCEEDED');
  }

  private takeFault(call: PendingCall): { response: HttpResponse; afterServe: boolean } | undefined {
    const i = this.faults.findIndex((f) => (f.kind === undefined || f.kind === call.kind) && (f.match?.(call) ?? true));
    const armed = this.faults[i];
    if (!armed) return undefined;
    armed.remaining -= 1;
    if (armed.remaining <= 0) this.faults.splice(i, 1);
    const { fault } = armed;
    const afterServe = fault.afterServe ?? false;
    if (fault.destroySocket) return { response: { status: 0, destroySocket: true }, afterServe };
    const limit = call.kind === 'read' ? this.readQuota.limit : this.writeQuota.limit;
    const api =
      fault.status === 429 && fault.message === undefined
        ? quotaExceeded(call.kind, Number.isFinite(limit) ? limit : 60)
        : new ApiError(fault.status, fault.message ?? defaultMessage(fault.status), fault.statusText ?? googleStatus(fault.status));
    const out: HttpResponse = { status: fault.status, body: api.toBody() };
    if (fault.headers) out.headers = fault.headers;
    return { response: out, afterServe };
  }
}

/** Google's per-request processing limit: "When Sheets processes a request for more than 180 seconds, the request returns a timeout error" (https://developers.google.com/sheets/api/limits). */
export const DEADLINE_MS = 180_000;

/** The cells a read answers with (values.get, values.batchGet, spreadsheets.get's grid data rows). */
function cellsIn(body: unknown): number {
  if (body === null || typeof body !== 'object') return 0;
  const b = body as Record<string, unknown>;
  const rows = (values: unknown): number => (Array.isArray(values) ? values.reduce<number>((n, row) => n + (Array.isArray(row) ? row.length : 0), 0) : 0);
  if (Array.isArray(b['valueRanges'])) return (b['valueRanges'] as unknown[]).reduce<number>((n, r) => n + rows((r as Record<string, unknown> | null)?.['values']), 0);
  return rows(b['values']);
}
