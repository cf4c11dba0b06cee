import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Config, Secrets } from '../config/index.js';
import { StatusValidatorError, redact } from '../errors.js';
import { runValidation, type Progress, type RunSummary } from '../pipeline/index.js';

export interface TriggerOptions {
  config: Config;
  secrets: Secrets;
  /** The bearer token callers must present. */
  token: string;
  log: (line: string) => void;
  stop?: AbortSignal;
}

interface RunState {
  id: string;
  status: 'running' | 'finished' | 'failed';
  startedAt: string;
  progress: Progress | undefined;
  summary: RunSummary | undefined;
  error: string | undefined;
}

/**
 * The HTTP trigger for "Validate now" in the sheet (an Apps Script menu item):
 *   POST /runs       start a run (202), or 409 while one is running;
 *   GET  /runs/:id   its progress, then its summary;
 *   GET  /health     liveness, no token needed.
 * Every other call needs `Authorization: Bearer <token>`, compared in constant time.
 */
export function createTriggerServer(options: TriggerOptions): { server: Server; whenIdle: () => Promise<void> } {
  const runs = new Map<string, RunState>();
  let current: RunState | undefined;
  let running: Promise<void> = Promise.resolve();
  const expected = digest(options.token);

  const start = (body: { force?: unknown }): RunState => {
    const state: RunState = { id: randomUUID(), status: 'running', startedAt: new Date().toISOString(), progress: undefined, summary: undefined, error: undefined };
    runs.set(state.id, state);
    current = state;
    options.log(`run ${state.id.slice(0, 8)} requested over HTTP`);
    running = runValidation(options.config, options.secrets, {
      runId: state.id,
      trigger: 'serve',
      force: body.force === true,
      warnings: [],
      onProgress: (p) => (state.progress = { ...p }),
      ...(options.stop ? { stop: options.stop } : {}),
    })
      .then((summary) => {
        state.summary = summary;
        state.status = summary.status === 'failed' ? 'failed' : 'finished';
        options.log(`run ${state.id.slice(0, 8)} ${summary.status}`);
      })
      .catch((error: unknown) => {
        state.status = 'failed';
        state.error = redact(error instanceof StatusValidatorError ? error.message : `internal error: ${String(error)}`, options.secrets.all);
        options.log(`run ${state.id.slice(0, 8)} failed: ${state.error}`);
      })
      .finally(() => {
        if (current === state) current = undefined;
        // Keep the last hundred runs' states for GET.
        if (runs.size > 100) runs.delete(runs.keys().next().value as string);
      })
      .then(() => undefined);
    return state;
  };

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      send(res, 500, { error: 'internal error', detail: redact(String(error), options.secrets.all) });
    });
  });
  return { server, whenIdle: () => running };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/health') return send(res, 200, { ok: true, running: current?.id ?? null });
    if (!authorized(req.headers.authorization, expected)) {
      res.setHeader('www-authenticate', 'Bearer');
      return send(res, 401, { error: 'missing or wrong bearer token' });
    }
    if (req.method === 'POST' && url.pathname === '/runs') {
      if (current) return send(res, 409, { error: 'a run is already in progress', id: current.id, url: `/runs/${current.id}` });
      const body = await readJson(req);
      if (body === undefined) return send(res, 400, { error: 'the body must be JSON (or empty), e.g. {"force": true}' });
      const state = start(body);
      return send(res, 202, { ...view(state), url: `/runs/${state.id}` });
    }
    const match = /^\/runs\/([0-9a-f-]{36})$/.exec(url.pathname);
    if (req.method === 'GET' && match) {
      const state = runs.get(match[1] ?? '');
      return state ? send(res, 200, view(state)) : send(res, 404, { error: 'no such run (only the last 100 are kept in memory; `status-validator runs` lists all)' });
    }
    return send(res, 404, { error: `no route for ${req.method ?? ''} ${url.pathname}` });
  }
}

function view(state: RunState): Record<string, unknown> {
  return { id: state.id, status: state.status, startedAt: state.startedAt, progress: state.progress ?? null, summary: state.summary ?? null, error: state.error ?? null };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Constant-time: hashing first makes both sides the same length whatever was sent. */
function authorized(header: string | undefined, expected: Buffer): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  return match !== null && timingSafeEqual(digest((match[1] ?? '').trim()), expected);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`${JSON.stringify(body)}\n`);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  let text = '';
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > 10_000) return undefined;
  }
  if (text.trim() === '') return {};
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
