import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Config, Secrets } from '../config/index.js';
import { StatusValidatorError, redact } from '../errors.js';
import { runValidation } from '../pipeline/index.js';
import { RunSlot, type RunState } from './admission.js';
import { machineToken, type Authenticate, type Caller } from './auth.js';
import { readJson, send } from './http.js';

export interface TriggerOptions {
  config: Config;
  secrets: Secrets;
  /** The bearer token callers must present. */
  token: string;
  log: (line: string) => void;
  /** Aborted on the first SIGINT/SIGTERM: no new run; the one in progress stops asking and writes what it has. */
  stop?: AbortSignal;
  /** Aborted on the second signal or the deadline: the run in progress cancels its calls in flight. */
  abort?: AbortSignal;
  /** How long a request body may take to arrive (ms). */
  bodyTimeoutMs?: number;
}

/**
 * The HTTP trigger for "Validate now" in the sheet (an Apps Script menu item):
 *   POST /runs       start a run (202), or 409 while one is running or being admitted;
 *   GET  /runs/:id   its progress, then its summary;
 *   GET  /health     liveness and the run in progress, no token needed.
 * Every other call is authenticated first (`authenticate`), then routed.
 */
export function createTriggerServer(options: TriggerOptions): { server: Server; whenIdle: () => Promise<void> } {
  const slot = new RunSlot();
  const authenticate: Authenticate = machineToken(options.token);
  const bodyTimeoutMs = options.bodyTimeoutMs ?? 10_000;

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      send(res, 500, { error: 'internal error', detail: redact(String(error), options.secrets.all) });
    });
  });
  return { server, whenIdle: () => slot.idle() };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/health') {
      const active = slot.active;
      return send(res, 200, { ok: true, running: active?.id ?? null, status: active?.status ?? null });
    }
    const caller = authenticate(req.headers.authorization);
    if (!caller) {
      res.setHeader('www-authenticate', 'Bearer');
      return send(res, 401, { error: 'missing or wrong bearer token' });
    }
    if (req.method === 'POST' && url.pathname === '/runs') return startRun(req, res, caller);
    const match = /^\/runs\/([0-9a-f-]{36})$/.exec(url.pathname);
    if (req.method === 'GET' && match) {
      const state = slot.get(match[1] ?? '');
      return state ? send(res, 200, view(state)) : send(res, 404, { error: 'no such run (only the last 100 are kept in memory; `status-validator runs` lists all)' });
    }
    return send(res, 404, { error: `no route for ${req.method ?? ''} ${url.pathname}` });
  }

  /** POST /runs: the slot is claimed before the body is read (no await in between). */
  async function startRun(req: IncomingMessage, res: ServerResponse, _caller: Caller): Promise<void> {
    if (options.stop?.aborted) return send(res, 503, { error: 'the server is stopping; try again once it is back' });
    const claim = slot.claim();
    if ('busy' in claim) return send(res, 409, { error: 'a run is already in progress', id: claim.busy.id, url: `/runs/${claim.busy.id}` });
    let started = false;
    try {
      const body = await readJson(req, bodyTimeoutMs);
      if (!body.ok) return send(res, body.status, { error: body.error });
      if (options.stop?.aborted) return send(res, 503, { error: 'the server is stopping; try again once it is back' });
      const { state } = claim;
      options.log(`run ${state.id.slice(0, 8)} requested over HTTP`);
      claim.start(
        (s) =>
          runValidation(options.config, options.secrets, {
            runId: s.id,
            trigger: 'serve',
            force: body.value.force === true,
            warnings: [],
            onProgress: (p) => (s.progress = { ...p }),
            ...(options.stop ? { stop: options.stop } : {}),
            ...(options.abort ? { abort: options.abort } : {}),
          }).then((summary) => {
            options.log(`run ${s.id.slice(0, 8)} ${summary.status}`);
            return summary;
          }),
        (error) => {
          const text = redact(error instanceof StatusValidatorError ? error.message : `internal error: ${String(error)}`, options.secrets.all);
          options.log(`run ${state.id.slice(0, 8)} failed: ${text}`);
          return text;
        },
      );
      started = true;
      return send(res, 202, { ...view(state), url: `/runs/${state.id}` });
    } finally {
      if (!started) claim.cancel();
    }
  }
}

function view(state: RunState): Record<string, unknown> {
  return { id: state.id, status: state.status, startedAt: state.startedAt, progress: state.progress ?? null, summary: state.summary ?? null, error: state.error ?? null };
}
