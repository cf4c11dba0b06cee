import { JWT, type Credentials } from 'google-auth-library';

/**
 * Google's OAuth 2.0 token endpoint: the `aud` of every service-account assertion, and
 * where google-auth-library sends it (https://developers.google.com/identity/protocols/oauth2/service-account).
 */
export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

/** Vertex AI takes an access token for this scope (https://docs.cloud.google.com/vertex-ai/generative-ai/docs/migrate/openai/auth-and-credentials). */
export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

/** Google refreshes a token this long before it expires at the latest (google-auth-library's own margin). */
const MAX_MARGIN_MS = 5 * 60_000;

/** The fields of a service-account key file that obtaining a token needs. */
export interface GoogleServiceAccount {
  client_email: string;
  private_key: string;
  private_key_id?: string | undefined;
  /** The key file's token endpoint; Google's own when absent. */
  token_uri?: string | undefined;
}

/** Google refused to issue a token (a revoked key, a deleted account) or could not be asked. */
export class GoogleTokenError extends Error {
  constructor(
    message: string,
    /** The token endpoint's HTTP status; undefined when it could not be reached. */
    readonly status: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'GoogleTokenError';
  }

  /** Not reached, or failing on its side (429, 5xx, after the library's own retries): asking later may work. */
  get retryable(): boolean {
    return this.status === undefined || this.status === 429 || this.status >= 500;
  }
}

interface Held {
  token: string;
  /** When it is replaced: a quarter of its life, or five minutes, before it expires. */
  refreshAt: number;
}

/**
 * OAuth access tokens for the service account the bot already has for Sheets, with the
 * cloud-platform scope: one at a time, shared by every request of the process, replaced
 * before it expires (tokens live an hour by default, and a request sent with an expired
 * one is refused with 401). google-auth-library signs the assertion and exchanges it.
 */
export class GoogleTokens {
  private held: Held | undefined;
  private pending: Promise<Held> | undefined;

  constructor(
    private readonly key: GoogleServiceAccount,
    private readonly now: () => number = Date.now,
  ) {}

  get email(): string {
    return this.key.client_email;
  }

  /** A token valid for a while yet: the one held, or a new one (one request for all callers). */
  async bearer(): Promise<string> {
    const held = this.held;
    if (held && this.now() < held.refreshAt) return held.token;
    this.pending ??= this.fetch().finally(() => {
      this.pending = undefined;
    });
    return (await this.pending).token;
  }

  /** The endpoint refused this token (revoked, or expired by its clock): the next caller gets a new one. */
  invalidate(token: string): void {
    if (this.held?.token === token) this.held = undefined;
  }

  private async fetch(): Promise<Held> {
    // A fresh client each time: the library's own cache would hand back the token being replaced.
    const jwt = new JWT({
      email: this.key.client_email,
      key: this.key.private_key,
      ...(this.key.private_key_id ? { keyId: this.key.private_key_id } : {}),
      scopes: [CLOUD_PLATFORM_SCOPE],
    });
    const tokenUri = this.key.token_uri;
    if (tokenUri && tokenUri !== GOOGLE_TOKEN_URL) {
      // The library always posts to Google's URL; a key file naming another token_uri
      // (a private endpoint, an emulator) is honoured as Google's client libraries do.
      jwt.transporter.interceptors.request.add({
        resolved: (options) => {
          if (String(options.url) === GOOGLE_TOKEN_URL) options.url = new URL(tokenUri);
          return Promise.resolve(options);
        },
      });
    }
    const asked = this.now();
    let credentials: Credentials;
    try {
      credentials = await jwt.authorize();
    } catch (error) {
      throw tokenFailure(error, this.key.client_email);
    }
    const token = credentials.access_token;
    if (typeof token !== 'string' || token === '') throw new GoogleTokenError(`Google's token endpoint answered without an access token for ${this.key.client_email}`, undefined);
    // No lifetime stated (or none that is a number): Google's default hour.
    const expires = typeof credentials.expiry_date === 'number' && Number.isFinite(credentials.expiry_date) ? credentials.expiry_date : asked + 3_600_000;
    const life = Math.max(0, expires - asked);
    const held = { token, refreshAt: expires - Math.min(MAX_MARGIN_MS, life / 4) };
    this.held = held;
    return held;
  }
}

/** What the token endpoint said (`invalid_grant: Invalid JWT Signature.`), never the assertion or the key. */
function tokenFailure(error: unknown, email: string): GoogleTokenError {
  const response = (error as { response?: { status?: unknown; data?: unknown } } | null)?.response;
  const status = typeof response?.status === 'number' ? response.status : undefined;
  const data = response?.data as { error?: unknown; error_description?: unknown } | undefined;
  const said =
    typeof data?.error === 'string'
      ? `${data.error}${typeof data.error_description === 'string' ? `: ${data.error_description}` : ''}`
      : error instanceof Error
        ? error.message
        : String(error);
  const trimmed = said.trim() === '' ? 'no reason given' : said.trim();
  const text = trimmed.length > 300 ? `${trimmed.slice(0, 300)}…` : trimmed;
  return new GoogleTokenError(
    status === undefined || status === 429 || status >= 500 ? `could not ask Google's token endpoint for an access token for ${email} (${status === undefined ? '' : `${status}: `}${text})` : `Google's token endpoint refused an access token to the service account ${email} (${status}: ${text})`,
    status,
    { cause: error },
  );
}

const shared = new WeakMap<object, GoogleTokens>();

/** One token holder per key file read (every provider and target of the process shares it). */
export function googleTokensFor(key: GoogleServiceAccount): GoogleTokens {
  let tokens = shared.get(key);
  if (!tokens) {
    tokens = new GoogleTokens(key);
    shared.set(key, tokens);
  }
  return tokens;
}

/**
 * The SDK's fetch with the token as the bearer: taken before each request; a 401 (the
 * token revoked, or expired sooner than its holder thought) replaces it and sends the
 * request once more, as Google's client libraries do.
 */
export function googleBearerFetch(tokens: GoogleTokens, inner: typeof fetch): typeof fetch {
  return async (input, init) => {
    const send = (token: string) => {
      const headers = new Headers(init?.headers);
      headers.set('authorization', `Bearer ${token}`);
      headers.delete('api-key');
      return inner(input, { ...init, headers });
    };
    const token = await tokens.bearer();
    const response = await send(token);
    if (response.status !== 401) return response;
    tokens.invalidate(token);
    const fresh = await tokens.bearer();
    if (fresh === token) return response;
    await response.body?.cancel().catch(() => undefined);
    return send(fresh);
  };
}

/** The token failure behind an error (the SDK wraps what its fetch throws as a connection error's cause). */
export function googleTokenErrorOf(error: unknown): GoogleTokenError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && typeof current === 'object' && current !== null; depth++) {
    if (current instanceof GoogleTokenError) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
