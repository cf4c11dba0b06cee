import { createRequire } from 'node:module';
import type pgModule from 'pg';
import { StatusValidatorError } from '../../errors.js';

/** Where a `cache.url` points, as messages may name it: never the password. */
export interface Target {
  host: string;
  port: number;
  database: string;
  user: string;
  /** host:port/database, for messages and `Store.location`. */
  location: string;
  /** host:port, what an unreachable server is named by. */
  address: string;
  /** Texts to scrub from any message that might echo them (the password, raw and URL-encoded). */
  secrets: readonly string[];
}

/**
 * pg is required here, not imported: this module's scrub() serves every command's error
 * messages, and a run on SQLite never loads pg (startup: issue 25).
 *
 * Reads the URL as pg itself will (its ConnectionParameters: the URL, then PG* variables,
 * then defaults), so the host and port a message names are the ones connected to. A URL pg
 * cannot parse is refused without echoing it: it holds the password.
 */
export function targetOf(url: string): Target {
  if (!/^postgres(ql)?:\/\//i.test(url.trim())) {
    throw new StatusValidatorError('cache.url is not a PostgreSQL URL (it must start with postgres:// or postgresql://).', {
      hint: 'Write it as postgres://USER:PASSWORD@HOST:PORT/DATABASE (or ${DATABASE_URL} to read it from the environment).',
    });
  }
  refuseAmbiguous(url.trim());
  let params: { host: string; port: number; database: string | undefined; user: string | undefined; password: unknown };
  try {
    const pg = createRequire(import.meta.url)('pg') as typeof pgModule;
    params = (new pg.Client({ connectionString: url }) as unknown as { connectionParameters: typeof params }).connectionParameters;
  } catch {
    throw new StatusValidatorError('cache.url is not a valid PostgreSQL URL.', {
      hint: 'Write it as postgres://USER:PASSWORD@HOST:PORT/DATABASE; a password with @, :, / or # must be percent-encoded (%40, %3A, %2F, %23).',
    });
  }
  const host = params.host.includes(':') && !params.host.startsWith('/') ? `[${params.host}]` : params.host;
  const port = Number(params.port) || 5432;
  const user = params.user ?? '';
  const database = params.database ?? user;
  const secrets = new Set<string>();
  for (const candidate of [typeof params.password === 'string' ? params.password : '', rawPassword(url), ...queryCredentials(url)]) {
    if (candidate) {
      secrets.add(candidate);
      secrets.add(encodeURIComponent(candidate));
      secrets.add(safeDecode(candidate));
    }
  }
  return { host, port, database, user, address: `${host}:${port}`, location: `${host}:${port}/${database}`, secrets: [...secrets].filter((s) => s.length >= 4) };
}

/**
 * node-postgres reads the URL by the WHATWG rules (https://url.spec.whatwg.org/#authority-state):
 * the authority ends at the first '/', '?' or '#', and the user info at the last '@' before
 * that. A password holding one of those three unencoded (a base64 password holds '/') moves
 * the host into the user info and the password's tail, '@' and the real host into the path:
 * pg would connect to the wrong host and read "database" as the password's remainder, which
 * every message would then print. Any '@' after the authority's end means exactly that, so it
 * is refused, and the message quotes nothing of the URL.
 */
function refuseAmbiguous(url: string): void {
  const rest = url.slice(url.indexOf('://') + 3);
  const end = rest.search(/[/?#]/);
  if (end === -1 || !rest.slice(end).includes('@')) return;
  throw new StatusValidatorError('cache.url cannot be read unambiguously: an "@" follows a "/", "?" or "#", so its password (or user name) holds one of those characters unencoded.', {
    hint: 'Percent-encode the user name and password in the URL (encodeURIComponent in JavaScript, or urllib.parse.quote(p, safe="") in Python): "/" is %2F, "?" %3F, "#" %23, "@" %40, ":" %3A. Nothing was sent to any server.',
  });
}

/**
 * Credentials given as query parameters (libpq and pg-connection-string take `password` and
 * `sslpassword` there: https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING-URIS),
 * decoded and as written.
 */
function queryCredentials(url: string): string[] {
  const query = url.trim().split('#')[0]?.split('?').slice(1).join('?') ?? '';
  const out: string[] = [];
  for (const pair of query.split('&')) {
    const [key = '', ...rest] = pair.split('=');
    const raw = rest.join('=');
    if (raw !== '' && ['password', 'sslpassword'].includes(safeDecode(key).toLowerCase())) out.push(raw, safeDecode(raw.replace(/\+/g, ' ')));
  }
  return out;
}

/** The text between user: and @ as written (what a message echoing the URL would show). */
function rawPassword(url: string): string {
  const match = /^[a-z]+:\/\/[^:@/]*:([^@]*)@/i.exec(url.trim());
  return match?.[1] ?? '';
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** A text with every form of the password replaced. */
export function scrub(text: string, target: Pick<Target, 'secrets'>): string {
  let out = text;
  for (const secret of target.secrets) out = out.split(secret).join('[redacted]');
  return out;
}
