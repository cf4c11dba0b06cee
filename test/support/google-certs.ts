import { createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for https://www.googleapis.com/oauth2/v1/certs: a JSON object of PEM keys by
 * key id, with Cache-Control max-age as Google sends it (google-auth-library caches the
 * certificates for that long). Google serves X.509 certificates; node:crypto cannot make
 * one, so the public key is served as SPKI PEM, which the library's verifier
 * (crypto.createVerify('RSA-SHA256').verify) accepts the same way.
 */
export interface GoogleCerts {
  url: string;
  /** How many times the certificates were fetched. */
  fetches(): number;
  /** Signs an ID token with the served key (or `key`), RS256 as Google does, unless `header` says otherwise. */
  sign(claims: Record<string, unknown>, options?: { key?: KeyObject; header?: Record<string, unknown>; unsigned?: boolean }): string;
  close(): Promise<void>;
}

export const KID = 'test-kid-1';

const pair = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
let keys: { served: ReturnType<typeof pair>; other: ReturnType<typeof pair> } | undefined;

/** Two RSA keys per test process: the one the endpoint serves, and another. */
export function testKeys(): { served: ReturnType<typeof pair>; other: ReturnType<typeof pair> } {
  keys ??= { served: pair(), other: pair() };
  return keys;
}

export async function startGoogleCerts(): Promise<GoogleCerts> {
  const { served } = testKeys();
  let fetches = 0;
  const server: Server = createServer((req, res) => {
    fetches++;
    const body = JSON.stringify({ [KID]: served.publicKey.export({ type: 'spki', format: 'pem' }).toString() });
    res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8', 'cache-control': 'public, max-age=20000, must-revalidate, no-transform' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/oauth2/v1/certs`,
    fetches: () => fetches,
    sign(claims, options = {}) {
      const header = options.header ?? { alg: 'RS256', kid: KID, typ: 'JWT' };
      const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const signed = `${part(header)}.${part(claims)}`;
      if (options.unsigned) return `${signed}.`;
      const signature = createSign('RSA-SHA256').update(signed).sign(options.key ?? served.privateKey).toString('base64url');
      return `${signed}.${signature}`;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export const CLIENT_ID = '1234-test.apps.googleusercontent.com';

/** The claims of an ID token from ScriptApp.getIdentityToken() with the openid and email scopes. */
export function idClaims(email: string, patch: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { iss: 'https://accounts.google.com', azp: CLIENT_ID, aud: CLIENT_ID, sub: '10769150350006150715113082367', email, email_verified: true, iat: now - 10, exp: now + 3590, ...patch };
}
