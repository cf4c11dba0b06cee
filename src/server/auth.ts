import { createHash, timingSafeEqual } from 'node:crypto';
import { googleIdToken, type GoogleIdentity } from './google.js';

/** Who is calling: the shared machine token (cron, Cloud Scheduler), or a person from the sheet. */
export type Caller = { kind: 'machine' } | { kind: 'google'; email: string; admin: boolean };

/** What the `Authorization` header proved, or why it proved nothing (the status to answer). */
export type AuthResult = { ok: true; caller: Caller } | { ok: false; status: 401 | 403 | 503; error: string };

export type Authenticate = (authorization: string | undefined) => Promise<AuthResult>;

/** The name a caller is recorded under: its email, or "token". */
export function callerName(caller: Caller): string {
  return caller.kind === 'machine' ? 'token' : caller.email;
}

/** A JWT is three base64url parts (the third empty for an unsigned one): anything else is the machine token. */
const JWT_FORM = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export interface AuthOptions {
  /** The shared machine token; undefined when serve runs without one. */
  token: string | undefined;
  /** Google ID tokens; undefined when serve.google_client_id is not set. */
  google: GoogleIdentity | undefined;
}

/**
 * One door for both kinds of caller, told apart by the bearer's form. The answers say
 * what to do and never echo the token.
 */
export function authenticator(options: AuthOptions): Authenticate {
  const machine = options.token === undefined ? undefined : machineToken(options.token);
  const verify = options.google ? googleIdToken(options.google) : undefined;
  return async (header) => {
    const match = /^Bearer[ \t]+(\S{1,8000})[ \t]*$/i.exec(header ?? '');
    const bearer = match?.[1];
    if (bearer === undefined) return { ok: false, status: 401, error: 'send "Authorization: Bearer <token>": a Google ID token from the sheet, or the machine token' };
    if (JWT_FORM.test(bearer)) {
      if (!verify) return { ok: false, status: 401, error: 'this server takes no Google ID tokens: set serve.google_client_id (and serve.allow) in its config' };
      return verify(bearer);
    }
    if (machine?.(bearer)) return { ok: true, caller: { kind: 'machine' } };
    return { ok: false, status: 401, error: 'wrong bearer token' };
  };
}

/** The shared bearer token, compared in constant time (hashing first makes both sides the same length). */
function machineToken(token: string): (bearer: string) => boolean {
  const expected = digest(token);
  return (bearer) => timingSafeEqual(digest(bearer), expected);
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
