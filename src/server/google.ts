import { OAuth2Client } from 'google-auth-library';
import type { AuthResult } from './auth.js';

export interface GoogleIdentity {
  /** The audience the tokens must carry: the OAuth client of the script's Cloud project. */
  clientId: string;
  /** Where Google's signing certificates are fetched (PEM by key id); a local endpoint in tests. */
  certsUrl: string;
  /** Emails and "@domain" entries allowed to trigger runs (lower case). */
  allow: readonly string[];
  /** Also allowed to force (lower case); admins are allowed to trigger too. */
  admins: readonly string[];
}

/**
 * Verifies a Google ID token with google-auth-library: OAuth2Client.verifyIdToken checks
 * the RS256 signature against the certificates at `certsUrl` (cached as their
 * Cache-Control says), the issuer (accounts.google.com or https://accounts.google.com),
 * the audience, iat and exp (with 5 minutes of clock skew). It does not look at the
 * header's `alg`, nor at email_verified: both are checked here.
 */
export function googleIdToken(options: GoogleIdentity): (token: string) => Promise<AuthResult> {
  const client = new OAuth2Client({ endpoints: { oauth2FederatedSignonPemCertsUrl: options.certsUrl } });
  return async (token) => {
    if (headerOf(token)?.alg !== 'RS256') return { ok: false, status: 401, error: 'the ID token is not signed with RS256, as Google signs them' };
    let payload: Record<string, unknown> | undefined;
    try {
      payload = (await client.verifyIdToken({ idToken: token, audience: options.clientId })).getPayload() as Record<string, unknown> | undefined;
    } catch (error) {
      return rejection(error);
    }
    const email = typeof payload?.email === 'string' ? payload.email.toLowerCase() : undefined;
    if (email === undefined) return { ok: false, status: 401, error: 'the ID token carries no email: add the userinfo.email scope to the script manifest (docs/appsscript.json)' };
    if (payload?.email_verified !== true) return { ok: false, status: 401, error: `the ID token's email ${email} is not verified by Google` };
    const hd = typeof payload?.hd === 'string' ? payload.hd.toLowerCase() : undefined;
    const admin = listed(email, hd, options.admins);
    if (!admin && !listed(email, hd, options.allow)) return { ok: false, status: 403, error: `${email} may not trigger runs: ask the bot's operator to add it to serve.allow` };
    return { ok: true, caller: { kind: 'google', email, admin } };
  };
}

/**
 * An "@domain" entry admits the accounts of that Google Workspace (or Cloud Identity)
 * domain: the token's `hd` claim must name it. The email alone proves nothing about
 * the domain: a consumer Google account can be created (and verified) at any address,
 * a former employee's too, and carries no `hd`. Google: "If you need to validate that
 * the ID token represents a Google Workspace or Cloud organization account, you can
 * check the hd claim [...]. Using the email field alone is insufficient"
 * (https://developers.google.com/identity/gsi/web/guides/verify-google-id-token,
 * https://developers.google.com/identity/openid-connect/openid-connect#validatinganidtoken).
 * `hd` is the organization's primary domain: a member whose address is at one of its
 * secondary domains is let in by the primary domain's entry, as the organization is
 * what the entry names.
 */
function listed(email: string, hd: string | undefined, entries: readonly string[]): boolean {
  return entries.some((entry) => (entry.startsWith('@') ? hd === entry.slice(1) : email === entry));
}

/** The token's header, or undefined when it is not base64url JSON. */
function headerOf(token: string): { alg?: unknown } | undefined {
  try {
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as unknown;
    return typeof header === 'object' && header !== null ? (header) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The library's messages quote the whole token and its payload: never passed on. Its
 * wording (oauth2client.js, verifySignedJwtWithCertsAsync) tells the cases apart.
 */
function rejection(error: unknown): AuthResult {
  const message = error instanceof Error ? error.message : '';
  const cases: Array<[RegExp, 401 | 503, string]> = [
    [/^Failed to retrieve verification certificates/, 503, "could not fetch Google's signing certificates; try again in a minute"],
    [/^Token used too late/, 401, 'the ID token has expired: reload the sheet and try again'],
    [/^Token used too early/, 401, 'the ID token is not valid yet: check the clock of the machine serve runs on'],
    [/^Wrong recipient/, 401, "the ID token was issued to another OAuth client: serve.google_client_id must be the script's client id (docs/apps-script.md)"],
    [/^Invalid issuer/, 401, 'the ID token was not issued by Google'],
    [/^(Invalid token signature|No pem found)/, 401, 'the ID token is not signed by Google'],
  ];
  const found = cases.find(([pattern]) => pattern.test(message));
  return { ok: false, status: found?.[1] ?? 401, error: found?.[2] ?? 'the ID token could not be verified' };
}
