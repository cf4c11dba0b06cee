import type { AddressInfo } from 'node:net';
import { ConfigError, LockedError } from '../errors.js';
import type { TargetOutcome } from '../pipeline/index.js';
import type { Config } from '../config/index.js';
import { createTriggerServer, serveCapProblems, type SkippedTarget, type TriggerOptions } from '../server/index.js';
import { loadTargets, logLine, type CommandIO } from './context.js';
import { openLasting } from './lasting.js';
import { announce, announcerFor, Background, failedOutcome } from './announce.js';
import { Metrics } from '../metrics/index.js';

export interface ServeFlags {
  config: string;
  /** Only this target of the config (default: all of them; each request names its own). */
  target?: string;
  port: number;
  host: string;
  tokenEnv: string;
}

/**
 * `serve`: the HTTP trigger for a "Validate now" menu item in the sheet. Binds
 * 127.0.0.1 unless told otherwise; refuses to start without a token. Ends on
 * SIGINT/SIGTERM (exit 0), letting the runs in progress finish their writes. Every run
 * it starts, of any target, shares the one provider gate the command holds for its life.
 */
export async function serveCommand(flags: ServeFlags, io: CommandIO): Promise<number> {
  const { targets, listed, secrets, warnings } = loadTargets(flags.config, io, flags.target);
  // Serve settings are top-level: every target has the same.
  const config = targets[0];
  if (!config) throw new RangeError('no target to serve');
  for (const warning of warnings) logLine(io, `warning: ${warning}`);
  checkServeCaps(flags.config, targets);
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
  const metrics = new Metrics();
  const announcer = announcerFor(flags.config, targets, secrets, io.env, metrics);
  const background = new Background();
  // After each triggered run's writes, in the background: the answer to a GET never waits for a receiver.
  // A target the run left out for another run holding it is told as `run` tells a held lock (exit 4), in the same message.
  const onRunEnd = (outcomes: readonly TargetOutcome[], skipped: readonly SkippedTarget[]) => {
    const left = skipped.flatMap(({ target, heldBy }) => {
      const config = targets.find((t) => t.target.name === target);
      const error = new LockedError(`target "${target}" was not run: ${heldBy} holds its lock`, { hint: 'It runs with the next request once that run has ended.' });
      return config ? [failedOutcome(announcer, config, error, io, 'serve')] : [];
    });
    // The skipped targets are of no recorded run: announce() re-records only targets that ran (not locked).
    background.track(announce(announcer, [...outcomes, ...left], io, { trigger: 'serve' }).then((warnings) => warnings.forEach((w) => logLine(io, `warning: ${w}`))));
  };
  const lasting = await openLasting(targets, secrets, (line) => logLine(io, line));
  try {
    return await listen(flags, io, { targets, listed, secrets, token, gates: lasting.gates, store: lasting.store, metrics, onRunEnd });
  } finally {
    await lasting.close();
    await background.drain();
  }
}

/** The serve settings no request could satisfy (a cost cap without a price), refused as a bad config (exit 2); `check-config` runs it too. */
export function checkServeCaps(file: string, targets: readonly Config[]): void {
  const problems = serveCapProblems(targets);
  if (problems.length > 0) throw new ConfigError(file, problems);
}

async function listen(
  flags: ServeFlags,
  io: CommandIO,
  { targets, listed, secrets, token, gates, store, metrics, onRunEnd }: Pick<TriggerOptions, 'targets' | 'listed' | 'secrets' | 'token' | 'gates' | 'store' | 'metrics' | 'onRunEnd'>,
): Promise<number> {
  const { server, whenIdle } = createTriggerServer({
    targets,
    listed,
    gates,
    store,
    secrets: { ...secrets, all: token === undefined ? secrets.all : [...secrets.all, token] },
    token,
    log: (line) => logLine(io, line),
    ...(metrics ? { metrics } : {}),
    ...(onRunEnd ? { onRunEnd } : {}),
    ...(io.stop ? { stop: io.stop } : {}),
    ...(io.abort ? { abort: io.abort } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(flags.port, flags.host, () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  logLine(io, `listening on http://${address.includes(':') ? `[${address}]` : address}:${port} (POST /runs, GET /runs/:id, GET /health, GET /metrics)`);
  if (listed) logLine(io, `targets: ${targets.map((t) => `${t.target.name} ("${t.sheets.sheet}" in ${t.sheets.spreadsheet_id})`).join(', ')}`);
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
