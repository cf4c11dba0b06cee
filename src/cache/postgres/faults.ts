import { StatusValidatorError } from '../../errors.js';
import { scrub, type Target } from './target.js';

/**
 * What a failure of the PostgreSQL cache means: a connection-class fault is retried (the
 * server restarting, failing over, or briefly unreachable); anything else is final.
 * SQLSTATEs from https://www.postgresql.org/docs/15/errcodes-appendix.html: class 08
 * connection_exception; 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now
 * (starting up, or in recovery); 53300 too_many_connections; 40001 serialization_failure and
 * 40P01 deadlock_detected (the transaction may simply be run again).
 */
const RETRIED_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '40001', '40P01']);
const RETRIED_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EAI_AGAIN', 'ECONNABORTED', 'ENOTCONN']);
/** pg's own errors carry no code: a connection that ended, timed out or was never made. */
const RETRIED_MESSAGES = /Connection terminated|connection timeout|timeout exceeded when trying to connect|is not queryable|Query read timeout|Connection ended/i;

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

export function isConnectionFault(error: unknown): boolean {
  if (error instanceof StatusValidatorError) return false;
  const code = codeOf(error);
  if (code.startsWith('08') || RETRIED_SQLSTATES.has(code) || RETRIED_ERRNOS.has(code)) return true;
  return error instanceof Error && RETRIED_MESSAGES.test(error.message);
}

/** What went wrong, in a few words and without the password (a server's message never holds it; scrubbed all the same). */
export function describe(error: unknown, target: Target): string {
  const code = codeOf(error);
  const words: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset',
    ETIMEDOUT: 'timed out',
    EPIPE: 'connection closed',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'name lookup failed',
  };
  const known = words[code];
  if (known) return `${code}: ${known}`;
  const message = error instanceof Error ? error.message : String(error);
  // A DatabaseError's message is the server's; pg's own errors name no secret, but a URL parser's might.
  return scrub(code ? `${message} (${code})` : message, target).slice(0, 300);
}

/**
 * The database stayed unreachable for longer than the bound: the run stops (exit 1), having
 * kept what was committed. `waitedMs`: since the outage was first met; `still`: a statement
 * that tried once, the outage having been waited out by an earlier one.
 */
export function unavailable(target: Target, error: unknown, waitedMs: number, doing: string, still = false): StatusValidatorError {
  const lasted = waitedMs < 1_000 ? 'is still unreachable' : `stayed unreachable for ${Math.round(waitedMs / 1000)} s`;
  return new StatusValidatorError(
    `The PostgreSQL cache at ${target.location} ${lasted} ${doing}${still && waitedMs >= 1_000 ? ', and still is' : ''} (${describe(error, target)}); the run stops.`,
    {
      hint: `Check that the server at ${target.address} is running and reachable from this host (firewall, Cloud SQL proxy, maintenance window), then run again: every verdict committed so far is kept, and the next run pays only for the rest.`,
    },
  );
}

/** The server could not be reached at all (nothing to fix in the config necessarily: the network, the server down). */
export class UnreachableCacheError extends StatusValidatorError {}

/** Why the store will not open, by cause: what to fix, naming host, port, database and user, never the password. */
export function openFailure(target: Target, error: unknown, waitedMs: number): StatusValidatorError {
  if (error instanceof StatusValidatorError) return error;
  const code = codeOf(error);
  const where = `the PostgreSQL cache at ${target.location}`;
  if (code === '28P01') {
    return new StatusValidatorError(`${cap(where)} refused the password of user "${target.user}" (28P01 invalid_password).`, {
      hint: 'Check the user and password in cache.url (or the DATABASE_URL it reads), and that the role exists on that server: a missing role is refused with the same words.',
    });
  }
  if (code === '28000') {
    return new StatusValidatorError(`${cap(where)} refused user "${target.user}": ${describe(error, target)}.`, {
      hint: `Check the user in cache.url: the role must exist (CREATE ROLE "${target.user}" LOGIN PASSWORD '…') and pg_hba.conf must let it connect from this host to database "${target.database}".`,
    });
  }
  if (code === '3D000') {
    return new StatusValidatorError(`${cap(where)}: database "${target.database}" does not exist (3D000).`, {
      hint: `Create it (CREATE DATABASE "${target.database}" OWNER "${target.user}";) or correct the database name at the end of cache.url.`,
    });
  }
  if (code === '42501') {
    return new StatusValidatorError(`${cap(where)}: user "${target.user}" may not create the cache's tables (${describe(error, target)}).`, {
      hint: `Grant it the right to create tables in the schema it uses (GRANT CREATE ON SCHEMA public TO "${target.user}";), or let the database's owner connect.`,
    });
  }
  if (isConnectionFault(error) || code === 'ENOTFOUND') {
    return new UnreachableCacheError(`Cannot reach ${where} (${describe(error, target)}; tried for ${Math.round(waitedMs / 1000)} s).`, {
      hint: `Check the host and port in cache.url (${target.address}), that the server is running and accepts TCP connections from this host (listen_addresses, firewall, Cloud SQL proxy).`,
    });
  }
  return new StatusValidatorError(`Cannot open ${where}: ${describe(error, target)}.`, {
    hint: 'Check cache.url and the server\'s log; nothing in the database was changed.',
  });
}

function cap(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * Runs `op` again while it fails with a connection-class fault, waiting 100 ms, 200 ms, …
 * (at most 2 s, with jitter so that several instances do not return in step), until
 * `patienceMs` has passed (the last wait cut to fit); then `giveUp` says why the caller stops.
 */
export async function retrying<T>(op: () => Promise<T>, patienceMs: number, giveUp: (error: unknown, waitedMs: number) => Error): Promise<T> {
  const start = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await op();
    } catch (error) {
      if (!isConnectionFault(error)) throw error;
      const waited = Date.now() - start;
      if (waited >= patienceMs) throw giveUp(error, waited);
      // The last wait is cut to the patience left, so a run gives up having waited the whole
      // patience (not at a random point short of it when the next backoff would overshoot).
      const delay = Math.min(2_000, 100 * 2 ** attempt) * (0.5 + Math.random() / 2);
      await new Promise((resolve) => setTimeout(resolve, Math.min(delay, patienceMs - waited)));
    }
  }
}
