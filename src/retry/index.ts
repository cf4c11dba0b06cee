/**
 * The retry policy shared by the Sheets and LLM clients: capped exponential backoff
 * with full jitter, and the server's own Retry-After when it gives one.
 *
 * Written here rather than taken from p-retry because a retry must wait what the
 * server asked (retry-after-ms / retry-after) and feed the run's shared cool-down,
 * which p-retry's fixed schedule cannot express.
 */
export interface BackoffOptions {
  /** Delay ceiling of the first retry, in ms. */
  baseMs: number;
  /** No single wait is longer than this, in ms. */
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, capMs: 30_000 };

/** Full jitter: a uniform wait in [0, min(cap, base × 2^attempt)). `attempt` starts at 0. */
export function backoffDelay(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  if (!Number.isInteger(attempt) || attempt < 0) throw new RangeError(`attempt must be a whole number ≥ 0, got ${attempt}`);
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

type HeaderSource = Headers | Record<string, string | string[] | undefined> | undefined | null;

function header(headers: HeaderSource, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * How long the server asked us to wait, in ms: `retry-after-ms` first (OpenAI's),
 * then `retry-after` as seconds or as an HTTP date. Undefined when it did not say or
 * said something unusable (negative, absurdly long).
 */
export function retryAfterMs(headers: HeaderSource, now: number = Date.now()): number | undefined {
  const ms = Number.parseFloat(header(headers, 'retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0 && ms < 10 * 60_000) return Math.ceil(ms);
  const raw = header(headers, 'retry-after');
  if (raw === undefined) return undefined;
  if (/^\s*-?[\d.]+\s*$/.test(raw)) {
    const seconds = Number.parseFloat(raw);
    return Number.isFinite(seconds) && seconds >= 0 && seconds < 600 ? Math.ceil(seconds * 1000) : undefined;
  }
  // An HTTP date: "Wed, 21 Oct 2015 07:28:00 GMT". Anything else is ignored.
  const date = /^[A-Za-z]{3}, \d{1,2} [A-Za-z]{3} \d{4} \d\d:\d\d:\d\d GMT$/.test(raw.trim()) ? Date.parse(raw) : Number.NaN;
  if (Number.isFinite(date)) {
    const wait = date - now;
    return wait >= 0 && wait < 10 * 60_000 ? wait : wait < 0 ? 0 : undefined;
  }
  return undefined;
}

/** setTimeout's ceiling (2^31 − 1 ms): a longer delay fires after 1 ms, so a bad wait must never reach it. */
export const MAX_SLEEP_MS = 2 ** 31 - 1;

/** Resolves after `ms` (at most MAX_SLEEP_MS; NaN counts as 0), or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason as Error);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.min(MAX_SLEEP_MS, Math.max(0, ms)));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
