import { JWT, type Credentials } from 'google-auth-library';
import { connectionFailureOf, endpointHost, type ConnectionFailure } from './http.js';

/**
 * Google's OAuth 2.0 token endpoint: the `aud` of every service-account assertion, and
 * where google-auth-library sends it (https://developers.google.com/identity/protocols/oauth2/service-account).
 */
export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

/** Vertex AI takes an access token for this scope (https://docs.cloud.google.com/vertex-ai/generative-ai/docs/migrate/openai/auth-and-credentials). */
export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

/** Google refreshes a token this long before it expires at the latest (google-auth-library's own margin). */
const MAX_MARGIN_MS = 5 * 60_000;

/**
 * How long the token request may take when its caller states no limit: gaxios has no
 * timeout of its own, and a token endpoint that takes the request and never answers
 * would otherwise hold every request of the run behind it.
 */
const TOKEN_TIMEOUT_MS = 30_000;

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
    options?: {
      cause?: unknown;
      /** The connection itself failed (refused, DNS, TLS): the endpoint is unreachable, not slow. */
      connection?: ConnectionFailure | undefined;
      /** host[:port] of the token endpoint, for a hint: never its path. */
      host?: string | undefined;
    },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GoogleTokenError';
    this.connection = options?.connection;
    this.host = options?.host ?? endpointHost(GOOGLE_TOKEN_URL);
  }

  readonly connection: ConnectionFailure | undefined;
  readonly host: string;

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

  /**
   * A token valid for a while yet: the one held, or a new one (one request for all
   * callers). The wait ends when `signal` aborts (the SDK's request timeout, Ctrl-C),
   * rejecting with the signal's AbortError as fetch does; the shared token request itself
   * gives up after `timeoutMs` (the first caller's), so a stuck endpoint holds nobody forever.
   */
  async bearer(signal?: AbortSignal | null, timeoutMs = TOKEN_TIMEOUT_MS): Promise<string> {
    const held = this.held;
    if (held && this.now() < held.refreshAt) return held.token;
    this.pending ??= this.fetch(timeoutMs).finally(() => {
      this.pending = undefined;
    });
    return (await abortable(this.pending, signal)).token;
  }

  /** The endpoint refused this token (revoked, or expired by its clock): the next caller gets a new one. */
  invalidate(token: string): void {
    if (this.held?.token === token) this.held = undefined;
  }

  private async fetch(timeoutMs: number): Promise<Held> {
    // A fresh client each time: the library's own cache would hand back the token being replaced.
    const jwt = new JWT({
      email: this.key.client_email,
      key: this.key.private_key,
      ...(this.key.private_key_id ? { keyId: this.key.private_key_id } : {}),
      scopes: [CLOUD_PLATFORM_SCOPE],
    });
    const tokenUri = this.key.token_uri && this.key.token_uri !== GOOGLE_TOKEN_URL ? this.key.token_uri : undefined;
    jwt.transporter.interceptors.request.add({
      resolved: (options) => {
        // The library always posts to Google's URL; a key file naming another token_uri
        // (a private endpoint, an emulator) is honoured as Google's client libraries do.
        if (tokenUri && String(options.url) === GOOGLE_TOKEN_URL) options.url = new URL(tokenUri);
        // gaxios waits forever by default (https://github.com/googleapis/gaxios#request-options: timeout).
        // It turns `timeout` into a signal before the interceptors run, so the signal is set
        // here too; `timeout` still arms each of its own retries.
        options.timeout = timeoutMs;
        const limit = AbortSignal.timeout(timeoutMs);
        options.signal = options.signal && !options.signal.aborted ? AbortSignal.any([options.signal, limit]) : limit;
        return Promise.resolve(options);
      },
    });
    const asked = this.now();
    let credentials: Credentials;
    try {
      credentials = await jwt.authorize();
    } catch (error) {
      throw tokenFailure(error, this.key.client_email, endpointHost(tokenUri ?? GOOGLE_TOKEN_URL), timeoutMs);
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

/**
 * What the token endpoint said (`invalid_grant: Invalid JWT Signature.`), never the
 * assertion, the key or the endpoint's URL (a private token_uri: these messages may
 * become a row's Issues cell).
 */
function tokenFailure(error: unknown, email: string, host: string, timeoutMs: number): GoogleTokenError {
  const response = (error as { response?: { status?: unknown; data?: unknown } } | null)?.response;
  const status = typeof response?.status === 'number' ? response.status : undefined;
  const connection = status === undefined ? connectionFailureOf(error) : undefined;
  const data = response?.data as { error?: unknown; error_description?: unknown } | undefined;
  const said =
    typeof data?.error === 'string'
      ? `${data.error}${typeof data.error_description === 'string' ? `: ${data.error_description}` : ''}`
      : connection
        ? connection.what
        : status === undefined && isTimeout(error)
          ? `no answer within ${Math.round(timeoutMs / 1000)} s`
          : error instanceof Error
            ? error.message
            : String(error);
  const trimmed = withoutUrls(said).trim() === '' ? 'no reason given' : withoutUrls(said).trim();
  const text = trimmed.length > 300 ? `${trimmed.slice(0, 300)}…` : trimmed;
  return new GoogleTokenError(
    status === undefined || status === 429 || status >= 500 ? `could not ask Google's token endpoint for an access token for ${email} (${status === undefined ? '' : `${status}: `}${text})` : `Google's token endpoint refused an access token to the service account ${email} (${status}: ${text})`,
    status,
    { cause: error, connection, host },
  );
}

/** gaxios's own timeout aborts its fetch: an AbortError or a TimeoutError somewhere in the chain. */
function isTimeout(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && typeof current === 'object' && current !== null; depth++) {
    const name = (current as { name?: unknown }).name;
    if (name === 'AbortError' || name === 'TimeoutError') return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** Each URL in a library's message reduced to its host: the path of a private token_uri stays out of the sheet. */
function withoutUrls(text: string): string {
  return text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>()]+/gi, (url) => endpointHost(url));
}

/** A promise whose wait ends when the signal aborts (with the signal's reason, as fetch rejects). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | null | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      // Only fetch() rejects it, with a GoogleTokenError.
      (error: Error) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** The SDK tells a timeout from a failure by the name AbortError (openai/internal/errors isAbortError). */
function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new DOMException('This operation was aborted', 'AbortError');
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
export function googleBearerFetch(tokens: GoogleTokens, inner: typeof fetch, timeoutMs?: number): typeof fetch {
  return async (input, init) => {
    const signal = init?.signal ?? undefined;
    const send = (token: string) => {
      const headers = new Headers(init?.headers);
      headers.set('authorization', `Bearer ${token}`);
      headers.delete('api-key');
      return inner(input, { ...init, headers });
    };
    const token = await tokens.bearer(signal, timeoutMs);
    const response = await send(token);
    if (response.status !== 401) return response;
    tokens.invalidate(token);
    const fresh = await tokens.bearer(signal, timeoutMs);
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
