import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Config, Secrets } from '../config/index.js';
import { StatusValidatorError, redact } from '../errors.js';
import { sheetsClientFor } from '../pipeline/index.js';
import { RunSlot, type Claim, type RunState } from './admission.js';
import { authenticator, callerName, type Caller } from './auth.js';
import { readJson, send } from './http.js';
import { launchRun } from './launch.js';
import { HourlyLimit } from './limits.js';
import { planRun, type RunPlan } from './plan.js';
import { parseRunAsk, type RunAsk } from './request.js';

export interface TriggerOptions {
  config: Config;
  secrets: Secrets;
  /** The shared machine token (cron callers); undefined when only Google ID tokens are taken. */
  token: string | undefined;
  log: (line: string) => void;
  /** Aborted on the first SIGINT/SIGTERM: no new run; the one in progress stops asking and writes what it has. */
  stop?: AbortSignal;
  /** Aborted on the second signal or the deadline: the run in progress cancels its calls in flight. */
  abort?: AbortSignal;
  /** How long a request body may take to arrive (ms). */
  bodyTimeoutMs?: number;
  /** How long any request may take to be answered (ms). */
  requestTimeoutMs?: number;
  now?: () => number;
}

/** Request headers are bounded well above an ID token (about 1 KB). */
const MAX_HEADER_BYTES = 16 * 1024;

/**
 * The HTTP trigger for the sheet's menu (docs/apps-script.gs) and for cron callers:
 *   POST /runs       start a run (202), or 409 while one is running or being admitted;
 *   GET  /runs/:id   its progress, then its summary;
 *   GET  /health     liveness and the run in progress, no token needed.
 * Every other call is authenticated first, then routed. Every answer is JSON.
 */
export function createTriggerServer(options: TriggerOptions): { server: Server; whenIdle: () => Promise<void> } {
  const { config, secrets } = options;
  const slot = new RunSlot();
  const serve = config.serve;
  const authenticate = authenticator({
    token: options.token,
    google:
      serve.google_client_id === undefined
        ? undefined
        : { clientId: serve.google_client_id, certsUrl: serve.google_certs_url, allow: serve.allow, admins: serve.admins },
  });
  const hourly = new HourlyLimit(serve.runs_per_hour, options.now);
  const bodyTimeoutMs = options.bodyTimeoutMs ?? 10_000;
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const sheets = sheetsClientFor(config, secrets);

  const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES, requestTimeout: requestTimeoutMs, headersTimeout: Math.min(10_000, requestTimeoutMs) }, (req, res) => {
    // A request the handler has not answered in time still gets a JSON answer.
    const timer = setTimeout(() => send(res, 503, { error: `no answer within ${requestTimeoutMs / 1000} s; try again` }), requestTimeoutMs);
    res.once('close', () => clearTimeout(timer));
    void handle(req, res).catch((error: unknown) => {
      options.log(`internal error: ${redact(String(error), secrets.all)}`);
      send(res, 500, { error: 'internal error (the server log says more)' });
    });
  });
  // Malformed requests, oversized headers, timeouts: a JSON answer rather than Node's plain text.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => refuseClient(error, socket));
  return { server, whenIdle: () => slot.idle() };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/health') {
      const active = slot.active;
      return send(res, 200, { ok: true, running: active?.id ?? null, status: active?.status ?? null });
    }
    const auth = await authenticate(req.headers.authorization);
    if (!auth.ok) {
      if (auth.status === 401) res.setHeader('www-authenticate', 'Bearer');
      return send(res, auth.status, { error: auth.error });
    }
    if (req.method === 'POST' && url.pathname === '/runs') return startRun(req, res, auth.caller);
    const match = /^\/runs\/([0-9a-f-]{36})$/.exec(url.pathname);
    if (req.method === 'GET' && match) {
      const state = slot.get(match[1] ?? '');
      return state ? send(res, 200, view(state)) : send(res, 404, { error: 'no such run (only the last 100 are kept in memory; `status-validator runs` lists all)' });
    }
    return send(res, 404, { error: `no route for ${(req.method ?? '').slice(0, 20)} ${url.pathname.slice(0, 100)}: POST /runs, GET /runs/:id, GET /health` });
  }

  /** POST /runs: the hourly limit first, then the slot, claimed before the body is read (no await in between). */
  async function startRun(req: IncomingMessage, res: ServerResponse, caller: Caller): Promise<void> {
    if (options.stop?.aborted) return send(res, 503, { error: 'the server is stopping; try again once it is back' });
    const who = callerName(caller);
    const wait = caller.kind === 'google' ? hourly.retryAfter(who) : undefined;
    if (wait !== undefined) {
      res.setHeader('retry-after', String(wait));
      return send(res, 429, { error: `${who} has started ${hourly.perHour} runs in the last hour (serve.runs_per_hour); try again in ${wait} s`, runsPerHour: hourly.perHour, retryAfterSeconds: wait });
    }
    const claim = slot.claim();
    if ('busy' in claim) return send(res, 409, { error: 'a run is already in progress', id: claim.busy.id, url: `/runs/${claim.busy.id}` });
    let started = false;
    try {
      const body = await readJson(req, bodyTimeoutMs);
      if (!body.ok) return send(res, body.status, { error: body.error });
      const parsed = parseRunAsk(body.value);
      if (!parsed.ok) return send(res, 400, { error: parsed.error });
      const { ask } = parsed;
      if (ask.force && caller.kind === 'google' && !caller.admin) return send(res, 403, { error: `${who} may not force a run (re-ask every row): only serve.admins may` });
      if (options.stop?.aborted) return send(res, 503, { error: 'the server is stopping; try again once it is back' });
      const plan = await planOrAnswer(res, ask);
      if (!plan) return;
      const refusal = caller.kind === 'google' ? overCaps(plan) : undefined;
      if (refusal) return send(res, 422, { ...refusal, unknownRows: plan.unknownRows });
      if (ask.rows && plan.knownRows.length === 0) return send(res, 422, { error: 'none of the row ids asked for is in the sheet (columns.id)', unknownRows: plan.unknownRows });
      begin(claim, caller, ask, plan);
      started = true;
      if (caller.kind === 'google') hourly.record(who);
      const { state } = claim;
      return send(res, 202, { ...view(state), url: `/runs/${state.id}`, rows: plan.rows, estimatedUsd: plan.estimatedUsd, unknownRows: plan.unknownRows });
    } finally {
      if (!started) claim.cancel();
    }
  }

  async function planOrAnswer(res: ServerResponse, ask: RunAsk): Promise<RunPlan | undefined> {
    try {
      return await planRun(config, sheets, ask, new Date(options.now?.() ?? Date.now()));
    } catch (error) {
      const text = error instanceof StatusValidatorError ? error.message : 'an unexpected error (the server log says more)';
      options.log(`could not read the sheet before a run: ${redact(String(error), secrets.all)}`);
      send(res, 502, { error: `could not read the sheet to estimate the run: ${redact(text, secrets.all)}` });
      return undefined;
    }
  }

  /** The per-person caps on a run: rows and cost by the estimate. */
  function overCaps(plan: RunPlan): Record<string, unknown> | undefined {
    if (plan.rows > serve.max_rows) return { error: `this run would recheck ${plan.rows} rows; at most ${serve.max_rows} (serve.max_rows): select fewer rows`, rows: plan.rows, maxRows: serve.max_rows };
    if (plan.estimatedUsd === null && plan.rows > 0) return { error: 'the model has no known price, so serve.max_cost_usd cannot be checked: set its price under pricing in the config', rows: plan.rows, maxCostUsd: serve.max_cost_usd };
    if (plan.estimatedUsd !== null && plan.estimatedUsd > serve.max_cost_usd) {
      return { error: `this run would cost about $${plan.estimatedUsd.toFixed(4)}; at most $${serve.max_cost_usd} (serve.max_cost_usd): select fewer rows`, estimatedUsd: plan.estimatedUsd, maxCostUsd: serve.max_cost_usd };
    }
    return undefined;
  }

  function begin(claim: Claim, caller: Caller, ask: RunAsk, plan: RunPlan): void {
    const request = { by: callerName(caller), rows: ask.rows, force: ask.force, estimatedUsd: plan.estimatedUsd };
    options.log(`run ${claim.state.id.slice(0, 8)} requested by ${request.by}${ask.rows ? ` (${ask.rows.length} rows)` : ''}${ask.force ? ' (force)' : ''}`);
    claim.start(
      (state) => launchRun(state, { config, secrets, sheets, values: plan.values, request, stop: options.stop, abort: options.abort, log: options.log }),
      (error) => {
        const text = redact(error instanceof StatusValidatorError ? error.message : `internal error: ${String(error)}`, secrets.all);
        options.log(`run ${claim.state.id.slice(0, 8)} failed: ${text}`);
        return error instanceof StatusValidatorError ? text : 'internal error (the server log says more)';
      },
    );
  }
}

function view(state: RunState): Record<string, unknown> {
  return { id: state.id, status: state.status, startedAt: state.startedAt, progress: state.progress ?? null, summary: state.summary ?? null, error: state.error ?? null };
}

function refuseClient(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable) return void socket.destroy();
  const [status, text] =
    error.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large'] : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Request Timeout'] : [400, 'Bad Request'];
  const body = `${JSON.stringify({ error: status === 431 ? `request headers must be at most ${MAX_HEADER_BYTES} bytes` : status === 408 ? 'the request did not arrive in time' : 'malformed HTTP request' })}\n`;
  socket.end(`HTTP/1.1 ${status} ${text}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}
