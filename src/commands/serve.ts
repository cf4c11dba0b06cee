import type { AddressInfo } from 'node:net';
import { ConfigError } from '../errors.js';
import { createTriggerServer } from '../server/index.js';
import { load, logLine, type CommandIO } from './context.js';

export interface ServeFlags {
  config: string;
  port: number;
  host: string;
  tokenEnv: string;
}

/**
 * `serve`: the HTTP trigger for a "Validate now" menu item in the sheet. Binds
 * 127.0.0.1 unless told otherwise; refuses to start without a token. Ends on
 * SIGINT/SIGTERM (exit 0), letting a run in progress finish its writes.
 */
export async function serveCommand(flags: ServeFlags, io: CommandIO): Promise<number> {
  const { config, secrets, warnings } = load(flags.config, io);
  for (const warning of warnings) logLine(io, `warning: ${warning}`);
  // The machine token is for cron callers; people from the sheet send Google ID tokens (serve.google_client_id).
  const token = io.env[flags.tokenEnv]?.trim() || undefined;
  if (token !== undefined && token.length < 16) {
    throw new ConfigError(flags.config, [{ path: flags.tokenEnv, message: `environment variable ${flags.tokenEnv} must hold at least 16 characters (the machine token cron callers present)` }], {
      hint: `Generate one with: export ${flags.tokenEnv}=$(openssl rand -hex 32).`,
    });
  }
  if (token === undefined && config.serve.google_client_id === undefined) {
    throw new ConfigError(flags.config, [
      { path: 'serve.google_client_id', message: `serve needs callers it can check: set serve.google_client_id and serve.allow (people in the sheet), or ${flags.tokenEnv} (a machine token for cron)` },
    ], { hint: 'See docs/apps-script.md for the client id, and generate a machine token with: openssl rand -hex 32.' });
  }
  const { server, whenIdle } = createTriggerServer({
    config,
    secrets: { ...secrets, all: token === undefined ? secrets.all : [...secrets.all, token] },
    token,
    log: (line) => logLine(io, line),
    ...(io.stop ? { stop: io.stop } : {}),
    ...(io.abort ? { abort: io.abort } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(flags.port, flags.host, () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  logLine(io, `listening on http://${address.includes(':') ? `[${address}]` : address}:${port} (POST /runs, GET /runs/:id, GET /health)`);
  if (flags.host !== '127.0.0.1' && flags.host !== 'localhost' && flags.host !== '::1') {
    logLine(io, `warning: listening on ${flags.host}, reachable from other machines: put it behind HTTPS`);
  }
  await new Promise<void>((resolve) => {
    if (io.stop?.aborted) resolve();
    io.stop?.addEventListener('abort', () => resolve(), { once: true });
  });
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  // A run in progress stops starting calls (the stop signal), lets those in flight finish
  // until the deadline (the abort signal, as for Ctrl-C of a run) and flushes its writes.
  await whenIdle();
  server.closeAllConnections();
  await closed;
  logLine(io, 'server stopped');
  return 0;
}
