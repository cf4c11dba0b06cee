import { backoffDelay, retryAfterMs, sleep } from '../retry/index.js';
import { scrub } from './url.js';

/** One message on its way to one destination. */
export interface Delivery {
  /** How messages name it: its format and host, never its URL (destinationName). */
  name: string;
  url: string;
  body: string;
  headers: Record<string, string>;
}

export interface DeliveryOptions {
  /** Everything, all attempts and waits, ends by then (ms since the epoch). */
  deadline: number;
  maxAttempts?: number;
  /** One attempt's ceiling (connect, headers, body), in ms. */
  attemptTimeoutMs?: number;
  now?: () => number;
  random?: () => number;
  /** Aborting gives up at once (a server stopping). */
  signal?: AbortSignal | undefined;
  /** Secrets to scrub from the reasons besides the URL's own parts (the json secret). */
  secrets?: readonly string[];
}

export interface DeliveryResult {
  name: string;
  ok: boolean;
  attempts: number;
  /** Why it was not delivered (no URL, no secret in it). */
  reason?: string;
}

export const MAX_ATTEMPTS = 5;
const ATTEMPT_TIMEOUT_MS = 5_000;
const BACKOFF = { baseMs: 500, capMs: 4_000 };
/** A receiver's answer is read only this far: for the reason of a refusal, never kept whole. */
const ANSWER_CHARS = 300;

type Outcome = { kind: 'ok' } | { kind: 'retry'; reason: string; waitMs: number | undefined } | { kind: 'refused'; reason: string };

/**
 * Posts one message: at most MAX_ATTEMPTS attempts, retrying 429s, 5xx, timeouts and
 * connection failures with capped exponential backoff and full jitter, or after the
 * receiver's Retry-After when it gives one; everything within the deadline. Never
 * throws: a failure comes back as a reason, which names the destination by its host.
 */
export async function deliver(delivery: Delivery, options: DeliveryOptions): Promise<DeliveryResult> {
  const now = options.now ?? Date.now;
  const maxAttempts = options.maxAttempts ?? MAX_ATTEMPTS;
  const clean = (text: string) => scrub(text, [delivery.url], options.secrets ?? []);
  let last = 'no attempt was made';
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const left = options.deadline - now();
    if (left <= 0 || options.signal?.aborted) return failed(delivery, attempt - 1, `${last}; gave up: the time for notifications ran out`);
    const outcome = await attemptOnce(delivery, Math.min(options.attemptTimeoutMs ?? ATTEMPT_TIMEOUT_MS, left), options.signal);
    if (outcome.kind === 'ok') return { name: delivery.name, ok: true, attempts: attempt };
    last = clean(outcome.reason);
    if (outcome.kind === 'refused') return failed(delivery, attempt, `${last}; not retried (fix the destination)`);
    if (attempt === maxAttempts) break;
    const wait = outcome.waitMs ?? backoffDelay(attempt - 1, BACKOFF, options.random);
    if (now() + wait >= options.deadline) return failed(delivery, attempt, `${last}; a retry in ${Math.ceil(wait / 1000)} s would end after the time for notifications`);
    try {
      await sleep(wait, options.signal);
    } catch {
      return failed(delivery, attempt, `${last}; stopped`);
    }
  }
  return failed(delivery, maxAttempts, last);
}

function failed(delivery: Delivery, attempts: number, reason: string): DeliveryResult {
  return { name: delivery.name, ok: false, attempts, reason: `${reason} (${attempts} ${attempts === 1 ? 'attempt' : 'attempts'})` };
}

async function attemptOnce(delivery: Delivery, timeoutMs: number, outer: AbortSignal | undefined): Promise<Outcome> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = outer ? AbortSignal.any([timeout, outer]) : timeout;
  try {
    // undici loads when a message is sent, not with every run (startup: issue 25, B1); its
    // module.exports through `default`, as a bundle's lazy chunk of a CommonJS package has it.
    const { request } = (await import('undici')).default;
    const response = await request(delivery.url, {
      method: 'POST',
      body: delivery.body,
      headers: { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'status-validator', ...delivery.headers },
      signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const text = (await response.body.text().catch(() => '')).slice(0, ANSWER_CHARS).replace(/\s+/g, ' ').trim();
    const status = response.statusCode;
    if (status >= 200 && status < 300) return { kind: 'ok' };
    const said = `${delivery.name} answered ${status}${text ? ` ${text}` : ''}`;
    if (status === 429 || status >= 500 || status === 408) {
      return { kind: 'retry', reason: said, waitMs: retryAfterMs(response.headers) };
    }
    return { kind: 'refused', reason: said };
  } catch (error) {
    // undici's own headers/body timeouts (set to the same bound) may fire before the abort timer
    // on a loaded machine: the receiver took the connection and did not answer, all the same.
    const unanswered = timeout.aborted || isUndiciTimeout(error);
    const why = unanswered ? `no answer within ${Math.ceil(timeoutMs / 1000)} s` : outer?.aborted ? 'stopped' : `could not connect (${error instanceof Error ? error.message : String(error)})`;
    return { kind: 'retry', reason: `${delivery.name}: ${why}`, waitMs: undefined };
  }
}

/** undici's HeadersTimeoutError / BodyTimeoutError (https://undici.nodejs.org/#/docs/api/Errors). */
function isUndiciTimeout(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
}
