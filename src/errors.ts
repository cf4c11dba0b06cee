/**
 * One root error class and its typed subclasses. The CLI's single top-level catch
 * decides what the user sees from the class alone:
 *  - ConfigError / UsageError: the problem and the fix, exit 2, no stack;
 *  - RemoteError subclasses: what the remote said, its status and request id, exit 1;
 *  - anything else is a bug and is reported as one.
 *
 * Messages must never contain a secret: callers pass values through `redact()`.
 */
export class StatusValidatorError extends Error {
  /** A sentence telling the user what to do about it. */
  readonly hint: string | undefined;

  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }
}

/** Bad command-line usage (unknown flag, bad number). Exit code 2. */
export class UsageError extends StatusValidatorError {}

/** The cache cannot be kept safely where the config puts it (a SQLite file on a network file system). Exit code 2: the config must change. */
export class UnsafeCacheError extends StatusValidatorError {}

export interface ConfigProblem {
  /** Dotted path of the key, e.g. `llm.providers[0].model`. */
  path: string;
  message: string;
}

/** The config file is missing, unreadable or invalid. Lists every problem at once. Exit 2. */
export class ConfigError extends StatusValidatorError {
  readonly problems: readonly ConfigProblem[];

  constructor(file: string, problems: readonly ConfigProblem[], options: { hint?: string; cause?: unknown } = {}) {
    const lines = problems.map((p) => `  - ${p.path ? `${p.path}: ` : ''}${p.message}`);
    super(`${file}: ${problems.length === 1 ? 'a problem' : `${problems.length} problems`} in the configuration\n${lines.join('\n')}`, options);
    this.problems = problems;
  }
}

/** A failure reported by a remote service (Sheets or an LLM provider). */
export class RemoteError extends StatusValidatorError {
  readonly status: number | undefined;
  readonly requestId: string | undefined;

  constructor(
    message: string,
    options: { status?: number | undefined; requestId?: string | undefined; hint?: string; cause?: unknown } = {},
  ) {
    super(message, options);
    this.status = options.status;
    this.requestId = options.requestId;
  }
}

/** The Sheets API refused or failed a request. */
export class SheetsError extends RemoteError {}

/**
 * What an LLM failure means for the run:
 *  - auth: bad key or no access: this provider is left out for the rest of the run (with
 *    a warning); when no provider is left, the run stops: the user must fix the config;
 *  - quota: the account is out of credit: this provider is useless for the rest of the run;
 *  - rate_limit / transient: try again after a wait;
 *  - unreachable: no connection at all (refused, DNS, TLS): retried a few times, then the
 *    provider is left out for the run; with none left the run stops, writing no ERROR;
 *  - too_large: a 429 no wait can cure (the request alone is over a per-minute limit):
 *    this row fails at once, and the others are neither paused nor slowed;
 *  - format_unsupported: the provider rejects json_schema: switch to json_object;
 *  - config: every row would be refused the same way (a model that does not exist, a
 *    field the provider refuses that the bot cannot do without): like a refused key;
 *  - rejected: this request will never succeed here (bad request, unknown model).
 */
export type LlmErrorKind = 'auth' | 'quota' | 'rate_limit' | 'too_large' | 'transient' | 'unreachable' | 'format_unsupported' | 'config' | 'rejected' | 'content' | 'flex_capacity';

/** An LLM provider refused or failed a request. */
export class LlmError extends RemoteError {
  readonly kind: LlmErrorKind;
  readonly provider: string;
  /** Whether trying the same request again could succeed. */
  readonly retryable: boolean;
  /** Milliseconds the server asked us to wait, when it said. */
  readonly retryAfterMs: number | undefined;
  /** The response headers, when there was a response (rate-limit state lives there). */
  readonly headers: Headers | undefined;
  /** host[:port] that could not be reached when it is not the provider's base_url (Vertex's token endpoint). */
  readonly endpoint: string | undefined;

  constructor(
    message: string,
    options: {
      kind: LlmErrorKind;
      provider: string;
      retryable: boolean;
      status?: number | undefined;
      requestId?: string | undefined;
      retryAfterMs?: number | undefined;
      headers?: Headers | undefined;
      endpoint?: string | undefined;
      hint?: string;
      cause?: unknown;
    },
  ) {
    super(message, options);
    this.headers = options.headers;
    this.endpoint = options.endpoint;
    this.kind = options.kind;
    this.provider = options.provider;
    this.retryable = options.retryable;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * A failure that makes every further call pointless (bad API key, no quota left on
 * any provider). The run stops, flushes what it has and exits 1.
 */
export class FatalRunError extends StatusValidatorError {}

/** Another run holds the lock on this sheet. Exit code 4, with who holds it. */
export class LockedError extends StatusValidatorError {}

const SECRET_PATTERNS: readonly RegExp[] = [
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
  /\bsk-[A-Za-z0-9_-]{8,}/g,
  /\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/gi,
  /\bya29\.[A-Za-z0-9._-]+/g,
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g,
];

const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s/@]+@/gi;

/**
 * Removes anything that looks like a secret from a text meant for a log, an error
 * message, the cache or the sheet. `known` adds exact values (the configured keys).
 */
export function redact(text: string, known: readonly string[] = []): string {
  let out = text;
  for (const secret of known) {
    if (secret.length >= 6) out = out.split(secret).join('[redacted]');
  }
  for (const pattern of SECRET_PATTERNS) out = out.replace(pattern, '[redacted]');
  // A URL's password (postgres://user:password@host), whether or not it is known: the user and host stay readable.
  out = out.replace(URL_PASSWORD, '$1[redacted]@');
  return out;
}
