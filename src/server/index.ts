import type { Store } from '../cache/index.js';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Config, Secrets } from '../config/index.js';
import { StatusValidatorError, redact } from '../errors.js';
import type { ProviderGate } from '../llm/index.js';
import { sheetsClientFor } from '../pipeline/index.js';
import type { SheetsClient } from '../sheets/index.js';
import { RunSlot, type Claim, type Holder } from './admission.js';
import { authenticator, callerName, type AuthResult, type Caller } from './auth.js';
import { overCaps } from './caps.js';
import { RecentFailures } from './failures.js';
import { closeAfter, InFlight, MAX_BODY, readJson, send } from './http.js';
import { launchRun, type LaunchTarget, type SkippedTarget } from './launch.js';
import { HourlyLimit, type Reservation, type RunAllowance } from './limits.js';
import { planner } from './planner.js';
import { parseRunAsk, type RunAsk } from './request.js';
import { lockTargets, type AdmissionLocks } from './store-locks.js';
import { resolveTargets, targetsOfTab } from './targets.js';
import { everything, healthView, runView, type Scope } from './views.js';

import { plural } from '../plural.js';
import { sendMetrics, type Metrics } from '../metrics/index.js';
import type { TargetOutcome } from '../pipeline/index.js';

export { serveCapProblems } from './caps.js';
export type { SkippedTarget } from './launch.js';

export interface TriggerOptions {
  /** The targets a request may name (every one of the config, or the one --target names). */
  targets: Config[];
  /** Whether the config lists targets (else its one tab is the target, as before targets existed). */
  listed: boolean;
  secrets: Secrets;
  /** The provider gates every run of the server shares (the command holds them for its life). */
  gates: ReadonlyMap<string, ProviderGate>;
  /** The store every plan and run of the server uses (the command holds it for its life). */
  store: Store;
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
  /** GET /metrics answers from these (issue 22); no route without them. */
  metrics?: Metrics;
  /** Told of each triggered run's end, after its writes (metrics, notifications). */
  onRunEnd?: (outcomes: readonly TargetOutcome[], skipped: readonly SkippedTarget[]) => void;
}

/** How long a tab a person's request could not read is answered from memory rather than read again. */
const UNREADABLE_MEMORY_MS = 30_000;

/** Request headers are bounded well above an ID token (about 1 KB). */
const MAX_HEADER_BYTES = 16 * 1024;

/**
 * The HTTP trigger for the sheet's menu (docs/apps-script.gs) and for cron callers:
 *   POST /runs       start a run of the target the body names (202), or 409 while that
 *                    target has a run in progress or being planned (another target may
 *                    run at once); a cron caller naming none runs every target that is
 *                    free, the busy ones reported as skipped;
 *   GET  /runs/:id   its progress, then its summary (a person: only the tab they name);
 *   GET  /health     liveness, no token needed (the runs' ids for the machine token only).
 * Every other call is authenticated first, then routed. Every answer is JSON.
 */
export function createTriggerServer(options: TriggerOptions): { server: Server; whenIdle: () => Promise<void> } {
  const { targets, secrets } = options;
  // Serve settings, like the providers and the cache, are top-level: every target has the same.
  const config = targets[0];
  if (!config) throw new RangeError('serve needs at least one target');
  const slot = new RunSlot();
  const serve = config.serve;
  const authenticate = authenticator({
    token: options.token,
    google:
      serve.google_client_id === undefined
        ? undefined
        : { clientId: serve.google_client_id, certsUrl: serve.google_certs_url, allow: serve.allow, admins: serve.admins },
  });
  const bodyTimeoutMs = options.bodyTimeoutMs ?? 10_000;
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  // A request pending holds a slot at most until it is answered (or answered 503).
  const hourly: RunAllowance = new HourlyLimit(serve.runs_per_hour, options.now, requestTimeoutMs / 1000);
  // Room for serve.max_rows row ids of up to 200 characters: a selection the caps allow is never refused for its size.
  const bodyLimit = Math.min(1_000_000, MAX_BODY + serve.max_rows * 220);
  const failures = new RecentFailures(UNREADABLE_MEMORY_MS, options.now);
  const clients = new Map<Config, SheetsClient>(targets.map((t) => [t, sheetsClientFor(t, secrets)]));
  const clientOf = (t: Config) => clients.get(t) ?? sheetsClientFor(t, secrets);
  const planOrAnswer = planner({ clientOf, failures, listed: options.listed, secrets, store: options.store, log: options.log, now: options.now ?? Date.now });

  // No target is held while a body arrives, so "idle" also waits for the requests being answered:
  // one whose body arrives as the server stops is answered (503), not cut off.
  const requests = new InFlight();
  const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES, requestTimeout: requestTimeoutMs, headersTimeout: Math.min(10_000, requestTimeoutMs) }, (req, res) => {
    // A request the handler has not answered in time still gets a JSON answer, and what
    // it asked for is then not done: the caller was told to try again.
    const deadline: Deadline = { passed: false };
    const timer = setTimeout(() => {
      if (res.headersSent) return;
      deadline.passed = true;
      deadline.onPass?.();
      send(res, 503, { error: `no answer within ${requestTimeoutMs / 1000} s; nothing was started: try again` });
    }, requestTimeoutMs);
    res.once('close', () => clearTimeout(timer));
    requests.enter(res);
    void handle(req, res, deadline).catch((error: unknown) => {
      options.log(`internal error: ${redact(String(error), secrets.all)}`);
      send(res, 500, { error: 'internal error (the server log says more)' });
    });
  });
  // Malformed requests, oversized headers, timeouts: a JSON answer rather than Node's plain text.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => refuseClient(error, socket));
  return { server, whenIdle: () => requests.idle(() => slot.idle()) };

  async function handle(req: IncomingMessage, res: ServerResponse, deadline: Deadline): Promise<void> {
    const url = pathOf(req.url);
    // A target that is no path ("//" reads as a scheme-relative url with no host): nothing to route.
    if (!url) return send(res, 400, { error: 'the request target must be a path: POST /runs, GET /runs/:id, GET /health' });
    if (req.method === 'GET' && url.pathname === '/health') {
      // No token needed: liveness and a count; the runs' ids for the machine token only.
      const operator = req.headers.authorization !== undefined && isOperator(await authenticate(req.headers.authorization));
      return send(res, 200, healthView(slot.active, operator));
    }
    // No token, as /health: the metrics hold nothing personal (no emails, tokens or row contents).
    if (req.method === 'GET' && url.pathname === '/metrics' && options.metrics) return sendMetrics(res, options.metrics);
    const auth = await authenticate(req.headers.authorization);
    if (!auth.ok) {
      if (auth.status === 401) res.setHeader('www-authenticate', 'Bearer');
      return send(res, auth.status, { error: auth.error });
    }
    if (req.method === 'POST' && url.pathname === '/runs') return startRun(req, res, auth.caller, deadline);
    const match = /^\/runs\/([0-9a-f-]{36})$/.exec(url.pathname);
    if (req.method === 'GET' && match) {
      const state = slot.get(match[1] ?? '');
      if (!state) return send(res, 404, { error: 'no such run (only the last 100 are kept in memory; `status-validator runs` lists all)' });
      return send(res, 200, runView(state, scopeOf(auth.caller, url.searchParams)));
    }
    return send(res, 404, { error: `no route for ${(req.method ?? '').slice(0, 20)} ${url.pathname.slice(0, 100)}: POST /runs, GET /runs/:id, GET /health` });
  }

  /**
   * What a caller may see of a run: the machine token everything; a person the targets
   * of the tab their GET names (`?spreadsheet_id=…&sheet=…`, as the script sends it),
   * and without those nothing of any target.
   */
  function scopeOf(caller: Caller, query: URLSearchParams): Scope {
    if (caller.kind === 'machine') return everything;
    const book = query.get('spreadsheet_id');
    const tab = query.get('sheet');
    const names = book && tab ? targetsOfTab(targets, book, tab).map((t) => t.target.name) : [];
    return { all: false, targets: new Set(names) };
  }

  /**
   * POST /runs. A person's hourly slot is reserved first, before any await, so that two
   * requests arriving together cannot both take the last one; it is pending until the
   * request counts, and given back when it ends without counting. What counts: a run
   * started, and a refusal over the caps or the row ids (the sheet was read and the run
   * planned for it, so it cannot be repeated at will). What does not: a request refused
   * before its plan (a bad body, a busy tab, a stopping server), the sheet unreadable
   * (remembered a while instead: `failures`), or one answered 503 for being slow, which
   * gives back what it holds at once and starts nothing. No target is claimed before the
   * body has arrived and named a tab of the caller's spreadsheet: a body that never comes
   * holds nothing, and a request naming no tab of this server learns nothing of its runs.
   */
  async function startRun(req: IncomingMessage, res: ServerResponse, caller: Caller, deadline: Deadline): Promise<void> {
    if (options.stop?.aborted) return send(res, 503, { error: 'the server is stopping; try again once it is back' });
    const who = callerName(caller);
    let reservation: Reservation | undefined;
    if (caller.kind === 'google') {
      const taken = hourly.reserve(who);
      if ('retryAfter' in taken) {
        res.setHeader('retry-after', String(taken.retryAfter));
        const error = taken.pending
          ? `${who} has another request being answered, which may take the last run of the hour (serve.runs_per_hour: ${hourly.perHour}); try again in ${taken.retryAfter} s`
          : `${who} has used the ${plural(hourly.perHour, 'run')} of the last hour (serve.runs_per_hour; a request refused over serve.max_rows or serve.max_cost_usd counts as one); try again in ${taken.retryAfter} s`;
        return send(res, 429, { error, runsPerHour: hourly.perHour, retryAfterSeconds: taken.retryAfter });
      }
      reservation = taken;
    }
    let claim: Claim | undefined;
    let locks: AdmissionLocks | undefined;
    let started = false;
    let counted = false;
    // Answered 503 for being slow: give back at once what it holds, so the retry the 503
    // asks for is admitted, and stop planning (no estimate for a run that will not start).
    const abandoned = new AbortController();
    deadline.onPass = () => {
      abandoned.abort();
      claim?.cancel();
      void locks?.release();
      reservation?.release();
    };
    try {
      const body = await readJson(req, bodyTimeoutMs, bodyLimit);
      if (!body.ok) {
        closeAfter(res);
        const error = body.status === 413 ? `the request is over ${bodyLimit} bytes: select fewer rows (at most ${serve.max_rows} a run, serve.max_rows) and recheck them in parts` : body.error;
        return send(res, body.status, { error });
      }
      const parsed = parseRunAsk(body.value);
      if (!parsed.ok) return send(res, 400, { error: parsed.error });
      const { ask } = parsed;
      const resolved = resolveTargets(targets, ask, caller);
      if (!resolved.ok) return send(res, resolved.status, resolved.body);
      const chosen = resolved.targets;
      if (ask.force && caller.kind === 'google' && !caller.admin) return send(res, 403, { error: `${who} may not force a run (re-ask every row): only serve.admins may` });
      if (deadline.passed) return;
      const [only] = chosen;
      const failed = caller.kind === 'google' && only && chosen.length === 1 ? failures.recall(only.target.name) : undefined;
      if (failed) {
        res.setHeader('retry-after', String(failed.retryAfter));
        return send(res, 502, { ...failed.body, error: `${String(failed.body.error)} (the tab is read again in ${failed.retryAfter} s: fix it, then try again)` });
      }
      // A cron run of several targets runs those that are free; a person's tab is one target, all or nothing.
      const taken = slot.claim(chosen.map((t) => t.target.name), caller.kind === 'machine' && chosen.length > 1);
      if ('busy' in taken) return busy(res, taken.busy, taken.target);
      claim = taken;
      const { state } = taken;
      const running = chosen.filter((t) => state.targets.includes(t.target.name));
      if (options.stop?.aborted) return send(res, 503, { error: 'the server is stopping; try again once it is back' });
      // A person's run is refused on its row count before it is estimated (the cheap limit first).
      const launch = await planOrAnswer(res, running, ask, caller.kind === 'google' ? serve.max_rows : Infinity, abandoned.signal);
      // Answered 503 meanwhile: the caller will try again, so this request neither starts nor counts.
      if (!launch || deadline.passed) return;
      // Caps and row ids are a one-target affair: a person always names one; a cron run of several has neither.
      const one = launch.single;
      const refusal = caller.kind === 'google' && one ? overCaps(serve, one) : undefined;
      counted = true;
      if (refusal) return send(res, 422, { ...refusal, unknownRows: one?.unknownRows ?? [] });
      if (ask.rows && one && one.knownRows.length === 0) return send(res, 422, { error: 'none of the row ids asked for is in the sheet (columns.id)', unknownRows: one.unknownRows });
      if (options.stop?.aborted) {
        counted = false;
        return send(res, 503, { error: 'the server is stopping; try again once it is back' });
      }
      // This server's slot is free; the store's lock says whether another process sharing the
      // cache (another instance, a `run`) works on the tab. Taken last before the 202, and handed
      // to the run (store-locks.ts): a request answered 503 for being slow (mostly while it plans)
      // has taken no lock that its retry could meet.
      try {
        locks = await lockTargets(options.store, launch.targets.map((t) => t.config), state.id);
      } catch (error) {
        counted = false;
        const text = redact(error instanceof Error ? error.message : String(error), secrets.all);
        options.log(`could not take the run lock in the cache: ${text}`);
        return send(res, 503, { error: `could not take the tab's run lock in the cache, so nothing was started: ${text}; try again` });
      }
      if (deadline.passed) return;
      let { targets: launched, rows, estimatedUsd } = launch;
      const [elsewhere] = locks.elsewhere;
      if (elsewhere) {
        // A cron run of several targets runs those that are free, as with this server's own runs; a busy tab is no run of the hour.
        if (locks.held.size === 0 || !(caller.kind === 'machine' && chosen.length > 1)) {
          counted = false;
          return busy(res, elsewhere.busy, elsewhere.target);
        }
        taken.skip(locks.elsewhere);
        launched = launched.filter((t) => state.targets.includes(t.config.target.name));
        rows = launched.reduce((n, t) => n + (t.rows ?? 0), 0);
        estimatedUsd = launched.some((t) => t.estimatedUsd === null || t.estimatedUsd === undefined) ? null : launched.reduce((n, t) => n + (t.estimatedUsd ?? 0), 0);
      }
      begin(taken, caller, ask, launched, estimatedUsd, locks);
      started = true;
      const scope: Scope = caller.kind === 'machine' ? everything : { all: false, targets: new Set(state.targets) };
      return send(res, 202, { ...runView(state, scope), url: `/runs/${state.id}`, rows, estimatedUsd, unknownRows: one?.unknownRows ?? [] });
    } finally {
      if (!started) {
        claim?.cancel();
        await locks?.release();
      }
      if (counted) reservation?.keep();
      else reservation?.release();
    }
  }

  /**
   * 409: the run holding the target, this server's or another process's sharing the cache
   * (its host named: its GET /runs/:id answers on that instance).
   */
  function busy(res: ServerResponse, holder: Holder, target: string): void {
    const where = holder.host === undefined ? '' : holder.id ? ` (run ${holder.id.slice(0, 8)} on ${holder.host}, an instance sharing the cache)` : ' (another instance sharing the cache)';
    const error = options.listed ? `target "${target}" has a run in progress${where}; try again once it has ended` : `a run is already in progress${where}`;
    send(res, 409, { error, id: holder.id || null, url: holder.id ? `/runs/${holder.id}` : null, target, ...(holder.host === undefined ? {} : { host: holder.host }) });
  }

  function begin(claim: Claim, caller: Caller, ask: RunAsk, chosen: LaunchTarget[], estimatedUsd: number | null, locks: AdmissionLocks): void {
    const request = { by: callerName(caller), rows: ask.rows, force: ask.force, estimatedUsd };
    const of = options.listed ? ` of ${chosen.map((t) => t.config.target.name).join(', ')}` : '';
    const skipped = (claim.state.skipped ?? []).map((b) => `${b.target} (${b.busy.id ? `run ${b.busy.id.slice(0, 8)}` : 'another run'}${b.busy.host === undefined ? '' : ` on ${b.busy.host}`} holds it)`);
    options.log(`run ${claim.state.id.slice(0, 8)}${of} requested by ${request.by}${ask.rows ? ` (${plural(ask.rows.length, 'row')})` : ''}${ask.force ? ' (force)' : ''}${skipped.length > 0 ? `; skipped: ${skipped.join(', ')}` : ''}`);
    claim.start(
      // The locks go to the runs, which free them; freed here too, should the launch fail before a run took charge.
      (state) =>
        launchRun(state, { targets: chosen, secrets, gates: options.gates, store: options.store, locks: locks.held, request, stop: options.stop, abort: options.abort, log: options.log, metrics: options.metrics, ...(options.onRunEnd ? { onEnd: options.onRunEnd } : {}) }).finally(() => locks.release()),
      (error) => {
        const text = redact(error instanceof StatusValidatorError ? error.message : `internal error: ${String(error)}`, secrets.all);
        options.log(`run ${claim.state.id.slice(0, 8)} failed: ${text}`);
        return error instanceof StatusValidatorError ? text : 'internal error (the server log says more)';
      },
    );
  }
}

/** Set when a request was answered 503 for being slow: from then on it must not act. */
interface Deadline {
  passed: boolean;
  /** What the request gives back the moment it is answered 503 (its target's slot, the person's hourly slot). */
  onPass?: () => void;
}

const isOperator = (auth: AuthResult) => auth.ok && auth.caller.kind === 'machine';

/** The request target as a URL, or undefined when it is not a path this server could route. */
function pathOf(target: string | undefined): URL | undefined {
  const raw = target ?? '/';
  if (!raw.startsWith('/')) return undefined;
  try {
    // Prefixed rather than resolved against a base: "//x" would otherwise name the host x.
    return new URL(`http://localhost${raw}`);
  } catch {
    return undefined;
  }
}

function refuseClient(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable) return void socket.destroy();
  const [status, text] =
    error.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large'] : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Request Timeout'] : [400, 'Bad Request'];
  const body = `${JSON.stringify({ error: status === 431 ? `request headers must be at most ${MAX_HEADER_BYTES} bytes` : status === 408 ? 'the request did not arrive in time' : 'malformed HTTP request' })}\n`;
  socket.end(`HTTP/1.1 ${status} ${text}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}
