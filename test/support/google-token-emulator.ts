/**
 * Google's OAuth 2.0 token endpoint for service accounts, as
 * https://developers.google.com/identity/protocols/oauth2/service-account documents it:
 * POST grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<RS256 JWT>, the
 * JWT's iss a known service account, aud "https://oauth2.googleapis.com/token", scope the
 * scopes asked, exp at most an hour after iat. Errors are `400 {"error":"invalid_grant",
 * "error_description":…}`. An issued token is valid for `expires_in` seconds; `check()` is
 * what an API (Vertex AI) asks of a bearer token: 401 UNAUTHENTICATED when it is unknown
 * or expired, as Google answers (https://cloud.google.com/docs/authentication/token-types#at-lifetime).
 */
import { createPublicKey, createVerify, randomBytes, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const GOOGLE_TOKEN_AUD = 'https://oauth2.googleapis.com/token';

export interface IssuedToken {
  token: string;
  email: string;
  scopes: string[];
  issuedAt: number;
  expiresAt: number;
}

export interface TokenRefusal {
  status: number;
  body: unknown;
}

export interface GoogleTokenEmulator {
  /** The key file's token_uri. */
  readonly url: string;
  /** Every token issued, oldest first. */
  readonly issued: IssuedToken[];
  /** Token requests refused (bad signature, unknown account...). */
  readonly refused: number;
  /** A service account whose assertions are accepted: its email and the private key it signs with. */
  addAccount(email: string, privateKeyPem: string): void;
  /** Seconds a token issued from now on lives (Google: 3600). */
  setLifetime(seconds: number): void;
  /** Every token issued so far stops working (as after a key is disabled, or a clock jumps). */
  revokeAll(): void;
  /** What an API answers for this Authorization header, or undefined when the token is valid for `scope`. */
  check(authorization: string | undefined, scope: string): TokenRefusal | undefined;
  close(): Promise<void>;
}

/** Google's 401 for a missing, unknown or expired token (an ErrorInfo with the reason). */
function unauthenticated(reason: string): TokenRefusal {
  const message =
    'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.';
  return { status: 401, body: [{ error: { code: 401, message, status: 'UNAUTHENTICATED', details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason, domain: 'googleapis.com' }] } }] };
}

const b64url = (part: string) => Buffer.from(part, 'base64url');

export async function startGoogleTokenEmulator(): Promise<GoogleTokenEmulator> {
  const accounts = new Map<string, KeyObject>();
  const tokens = new Map<string, IssuedToken>();
  const issued: IssuedToken[] = [];
  let lifetime = 3600;
  let refused = 0;

  const grant = (form: URLSearchParams): { status: number; body: unknown } => {
    const invalid = (description: string) => {
      refused += 1;
      return { status: 400, body: { error: 'invalid_grant', error_description: description } };
    };
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      refused += 1;
      return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'Invalid grant_type: ' + (form.get('grant_type') ?? '') } };
    }
    const parts = (form.get('assertion') ?? '').split('.');
    if (parts.length !== 3) return invalid('Invalid JWT: not a JWT.');
    const [head, payload, signature] = parts as [string, string, string];
    let header: { alg?: unknown };
    let claims: { iss?: unknown; aud?: unknown; scope?: unknown; iat?: unknown; exp?: unknown };
    try {
      header = JSON.parse(b64url(head).toString('utf8')) as typeof header;
      claims = JSON.parse(b64url(payload).toString('utf8')) as typeof claims;
    } catch {
      return invalid('Invalid JWT: the header or the claims are not JSON.');
    }
    if (header.alg !== 'RS256') return invalid('Invalid JWT: the signing algorithm must be RS256.');
    const key = typeof claims.iss === 'string' ? accounts.get(claims.iss) : undefined;
    if (!key) return invalid('Invalid grant: account not found');
    const verifier = createVerify('RSA-SHA256');
    verifier.update(`${head}.${payload}`);
    if (!verifier.verify(key, b64url(signature))) return invalid('Invalid JWT Signature.');
    if (claims.aud !== GOOGLE_TOKEN_AUD) return invalid('Invalid JWT: the audience must be https://oauth2.googleapis.com/token.');
    const now = Math.floor(Date.now() / 1000);
    const iat = Number(claims.iat);
    const exp = Number(claims.exp);
    if (!Number.isFinite(iat) || !Number.isFinite(exp) || exp - iat > 3600 || exp <= now || iat > now + 300) {
      return invalid('Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.');
    }
    if (typeof claims.scope !== 'string' || claims.scope.trim() === '') {
      refused += 1;
      return { status: 400, body: { error: 'invalid_scope', error_description: 'Invalid OAuth scope or ID token audience provided.' } };
    }
    const token = `ya29.emulated-${randomBytes(18).toString('base64url')}`;
    const record: IssuedToken = { token, email: claims.iss as string, scopes: claims.scope.split(/\s+/), issuedAt: Date.now(), expiresAt: Date.now() + lifetime * 1000 };
    tokens.set(token, record);
    issued.push(record);
    return { status: 200, body: { access_token: token, expires_in: lifetime, token_type: 'Bearer' } };
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify(body));
      };
      if (req.method !== 'POST' || new URL(req.url ?? '/', 'http://x').pathname !== '/token') return reply(404, { error: 'not_found' });
      const answer = grant(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      reply(answer.status, answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/token`,
    issued,
    get refused() {
      return refused;
    },
    addAccount(email, privateKeyPem) {
      accounts.set(email, createPublicKey(privateKeyPem));
    },
    setLifetime(seconds) {
      lifetime = seconds;
    },
    revokeAll() {
      tokens.clear();
    },
    check(authorization, scope) {
      const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
      if (!match?.[1]) return unauthenticated('CREDENTIALS_MISSING');
      const record = tokens.get(match[1]);
      if (!record) return unauthenticated('ACCESS_TOKEN_TYPE_UNSUPPORTED');
      if (Date.now() >= record.expiresAt) return unauthenticated('ACCESS_TOKEN_EXPIRED');
      if (!record.scopes.includes(scope)) {
        return { status: 403, body: [{ error: { code: 403, message: 'Request had insufficient authentication scopes.', status: 'PERMISSION_DENIED', details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'ACCESS_TOKEN_SCOPE_INSUFFICIENT', domain: 'googleapis.com' }] } }] };
      }
      return undefined;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
