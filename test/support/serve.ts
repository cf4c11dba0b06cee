import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';
import { loadTargets } from '../../src/commands/context.js';
import { openLasting } from '../../src/commands/lasting.js';
import { createTriggerServer, type TriggerOptions } from '../../src/server/index.js';
import type { Bed, CliResult } from './bed.js';
import { waitFor } from './inspect.js';

/** The machine token the serve tests give STATUS_VALIDATOR_TOKEN (the operator's cron caller). */
export const SERVE_TOKEN = 'machine-token-0123456789abcdef';

/** An answer of the server: its status and its JSON body. */
export interface ServeAnswer {
  status: number;
  json: Record<string, unknown>;
}

/** `serve --port 0` running in this process over a bed. */
export interface Served {
  /** http://127.0.0.1:<port>, as the server printed it. */
  base: string;
  /** Everything the server wrote to stderr so far. */
  log: () => string;
  /** One request; `bearer` goes in `Authorization: Bearer`, `body` as JSON. */
  call: (method: string, route: string, bearer?: string, body?: unknown) => Promise<ServeAnswer>;
  /** Waits (about 20 s at most) until /health names no run in progress. */
  idle: () => Promise<void>;
  /** Stops the server (as SIGINT would) and waits for the command to end: its exit code and output. */
  close: () => Promise<CliResult>;
}

/**
 * Starts `serve --config <bed's> --port 0` through bed.cli, with the machine token `token`
 * (SERVE_TOKEN by default, none for null) and `env` over the bed's environment, and waits for "listening on".
 */
export async function startServe(bed: Bed, options: { token?: string | null; env?: Record<string, string> } = {}): Promise<Served> {
  // null: no machine token at all (only Google ID tokens are taken); idle() then asks /health unauthenticated.
  const token = options.token === null ? undefined : (options.token ?? SERVE_TOKEN);
  const stop = new AbortController();
  let log = '';
  const done = bed.cli(['serve', '--config', bed.configPath, '--port', '0'], { stop: stop.signal, env: { ...bed.env, ...(token === undefined ? {} : { STATUS_VALIDATOR_TOKEN: token }), ...options.env }, stderr: { write: (s: string) => (log += s) } });
  // A server that never listens is stopped here: the caller has nothing to close yet.
  await waitFor('the server to listen', () => /listening on (\S+)/.test(log)).catch(async (error: unknown) => {
    stop.abort();
    await done;
    throw error;
  });
  const base = /listening on (\S+)/.exec(log)?.[1] ?? '';
  const call = async (method: string, route: string, bearer?: string, body?: unknown): Promise<ServeAnswer> => {
    const res = await fetch(`${base}${route}`, { method, headers: bearer ? { authorization: `Bearer ${bearer}` } : {}, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  const idle = async () => {
    for (let i = 0; i < 1000 && (await call('GET', '/health', token)).json.running !== null; i++) await new Promise((r) => setTimeout(r, 20));
  };
  return { base, log: () => log, call, idle, close: () => (stop.abort(), done) };
}

/** The trigger server listening in this process (no CLI): for tests that need its timeouts or raw sockets. */
export interface Trigger {
  port: number;
  whenIdle: () => Promise<void>;
  /** Waits for the run in progress, then closes the server, the provider gates and the store. */
  close: () => Promise<void>;
}

/**
 * createTriggerServer over the bed's config, as `serve` builds it (targets, lasting gates), on a
 * free port of 127.0.0.1, with the machine token SERVE_TOKEN unless `options` names another.
 */
export async function listenTrigger(bed: Bed, options: Partial<Pick<TriggerOptions, 'token' | 'log' | 'bodyTimeoutMs' | 'requestTimeoutMs'>> = {}): Promise<Trigger> {
  const quiet = { write: () => true };
  const { targets, listed, secrets } = loadTargets(bed.configPath, { stdout: quiet, stderr: quiet, env: bed.env });
  const lasting = await openLasting(targets, secrets);
  const { server, whenIdle } = createTriggerServer({ targets, listed, secrets, gates: lasting.gates, store: lasting.store, token: SERVE_TOKEN, log: () => undefined, ...options });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  const close = async () => {
    await whenIdle();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await lasting.close();
  };
  return { port, whenIdle, close };
}

/**
 * Registers an afterEach that closes, last first, what a test hands to the returned function
 * (the Google certs, then the bed, then the server: so the server stops before the bed goes).
 */
export function closeAfterEach(): <T extends { close(): Promise<unknown> }>(thing: T) => T {
  let open: Array<{ close(): Promise<unknown> }> = [];
  afterEach(async () => {
    const now = open.reverse();
    open = [];
    for (const thing of now) await thing.close();
  });
  return (thing) => (open.push(thing), thing);
}
