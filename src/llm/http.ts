import type { IncomingHttpHeaders } from 'node:http';
import { brotliDecompressSync, constants as zlib, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import type { Dispatcher, errors as undiciErrors } from 'undici';
import { BufferedResponse } from './buffered-response.js';

interface Transport {
  dispatcher: Dispatcher;
  /** What undici's `request` rejects with when a signal aborts without a reason. */
  RequestAbortedError: typeof undiciErrors.RequestAbortedError;
}

let transport: Promise<Transport> | undefined;

/**
 * undici (a megabyte of code) is loaded on first use, not at startup: a run needs it only
 * once the sheet is read (issue 25, B1). A Provider starts loading it when created, so that
 * it loads while the run waits for the sheet. Redirects (a gateway answering 307/308, http
 * to https) are followed as the global fetch follows them; `request` alone would hand the
 * SDK a 3xx.
 */
export function loadTransport(): Promise<Transport> {
  // Its module.exports, through `default`: a bundle's lazy chunk of a CommonJS package has no named exports.
  transport ??= import('undici').then(({ default: { Agent, interceptors, errors } }) => ({ RequestAbortedError: errors.RequestAbortedError, dispatcher: new Agent().compose(interceptors.redirect({ maxRedirections: 5 })) }));
  return transport;
}

/** Where a request's `init` carries the callback of `sentTo`. */
const ON_WRITTEN: unique symbol = Symbol('called once the request is written');

/**
 * Fetch options (the openai SDK's RequestOptions.fetchOptions, which it hands its fetch in
 * `init`) asking jsonFetch to call `onWritten` as the request is written to its connection:
 * what a caller waits for before work that must not go ahead of the request (run.ts reads
 * the rest of the tab once its first question is out).
 */
export function sentTo(onWritten: () => void): { [ON_WRITTEN]: () => void } {
  return { [ON_WRITTEN]: onWritten };
}

/** Statuses whose Response may not carry a body (the Response constructor throws otherwise). */
const NULL_BODY = new Set([101, 204, 205, 304]);

/**
 * The openai SDK's `fetch` for chat completions: a JSON body sent through undici's
 * dispatcher (`exchange` below), the answer read whole and handed back as a standard Response.
 *
 * Why not the global fetch: at hundreds of requests a second (a 100,000-row run), its
 * WHATWG streams and per-request abort bookkeeping cost ~0.4 ms of CPU a request and
 * outlive the young generation, so the heap grows to several times the run's live
 * data (measured: 700 MiB peak RSS on 100,000 rows). The answer is handed back as a
 * BufferedResponse (no stream made for bytes already read). Bodies that are not a string
 * (file uploads to the Batch API) still go through the global fetch.
 */
export const jsonFetch: typeof fetch = async (input, init) => {
  const body = init?.body;
  if (typeof body !== 'string' || input instanceof Request) return fetch(input, init);
  const url = input instanceof URL ? input : new URL(input);
  const { dispatcher, RequestAbortedError } = await loadTransport();
  const onWritten = (init as (RequestInit & { [ON_WRITTEN]?: () => void }) | undefined)?.[ON_WRITTEN];
  const response = await exchange(dispatcher, RequestAbortedError, {
    origin: url.origin,
    path: url.search ? `${url.pathname}${url.search}` : url.pathname,
    method: init?.method ?? 'POST',
    // Answers are small JSON: asked uncompressed (undici's decoder is still experimental and warns).
    headers: { 'accept-encoding': 'identity', ...headerPairs(init?.headers) },
    body,
  }, init?.signal ?? undefined, onWritten);
  const headers = new Headers();
  for (const [name, value] of Object.entries(response.headers)) {
    if (Array.isArray(value)) for (const one of value) headers.append(name, one);
    else if (value !== undefined) headers.set(name, value);
  }
  if (response.body === null) return BufferedResponse.of(null, response.statusCode, headers, url.href);
  try {
    return BufferedResponse.of(decoded(response.body, headers), response.statusCode, headers, url.href);
  } catch (error) {
    // A body that does not decode: as fetch, the answer (its status, its headers) stands and
    // reading its body fails. The SDK reads an error's body with a catch, so a 429 or a 5xx
    // from a proxy that mislabels its page keeps its status (its retry, its wait).
    return undecodable(error, response.statusCode, headers);
  }
};

interface Exchanged {
  statusCode: number;
  headers: IncomingHttpHeaders;
  /** The whole body; null for a status that has none. */
  body: Buffer | null;
}

/**
 * One request through undici's dispatcher, its answer read whole. What undici's `request`
 * does, without what it adds for a caller that streams: a Readable for the body, read back
 * through its consumer, and an adapter that turns the headers undici has parsed back into
 * raw buffers for `request` to parse again (on the redirect interceptor's path). That was
 * ~0.05 ms of CPU and a dozen objects per answer (bench B1, issue 25). The outcome is
 * `request`'s: the final answer after redirects, 1xx answers skipped, a failure as undici
 * reports it, and an abort rejects with the signal's reason (RequestAbortedError without
 * one), whether the request waits for a connection, for its answer or for its body.
 */
function exchange(dispatcher: Dispatcher, RequestAbortedError: Transport['RequestAbortedError'], options: Dispatcher.DispatchOptions, signal: AbortSignal | undefined, onWritten?: () => void): Promise<Exchanged> {
  return new Promise<Exchanged>((resolve, reject) => {
    let controller: Dispatcher.DispatchController | undefined;
    /** Why the signal aborted, held until the request has a connection to abort (as `request` does). */
    let aborted: Error | undefined;
    let answer: Omit<Exchanged, 'body'> | undefined;
    let chunks: Buffer[] = [];
    let done = false;
    const onAbort = () => {
      aborted = (signal?.reason as Error | undefined) ?? new RequestAbortedError();
      // Still connecting (undici starts the request once a socket is connected): rejected at
      // once, as fetch and request do; the request is dropped when it starts.
      if (controller) controller.abort(aborted);
      else finish(aborted);
    };
    const finish = (error: Error | undefined, value?: Exchanged) => {
      if (done) return;
      done = true;
      signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve(value as Exchanged);
    };
    if (signal?.aborted) {
      // Aborted before it was sent: never sent.
      finish((signal.reason as Error | undefined) ?? new RequestAbortedError());
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(started) {
        controller = started;
        if (aborted) return started.abort(aborted);
        // undici writes the request as this returns (a redirect's next request calls it again).
        onWritten?.();
      },
      onResponseStart(_controller, statusCode, headers) {
        // An informational answer (100 Continue): the real one follows.
        if (statusCode < 200) return;
        answer = { statusCode, headers };
        chunks = [];
      },
      onResponseData(_controller, chunk) {
        chunks.push(chunk);
      },
      onResponseEnd() {
        // Cannot happen with a server that speaks HTTP (undici ends a response only after its final status).
        if (!answer) return finish(new Error(`the server at ${String(options.origin)} ended its answer with no final status (only an informational 1xx): check that base_url points at an OpenAI-compatible endpoint`));
        finish(undefined, { ...answer, body: NULL_BODY.has(answer.statusCode) ? null : Buffer.concat(chunks) });
      },
      onResponseError(_controller, error) {
        finish(error);
      },
    };
    try {
      dispatcher.dispatch(options, handler);
    } catch (error) {
      finish(error instanceof Error ? error : new Error(String(error)));
    }
  });
}

/**
 * The decoders fetch (undici) applies, as lenient as its streams: a body cut short yields
 * what it holds (Z_SYNC_FLUSH at its end) rather than an error. `deflate` is the zlib format,
 * or a raw DEFLATE stream when the first byte is not a zlib header (as undici tells them).
 */
const GZIP = { flush: zlib.Z_SYNC_FLUSH, finishFlush: zlib.Z_SYNC_FLUSH };
const BROTLI = { flush: zlib.BROTLI_OPERATION_FLUSH, finishFlush: zlib.BROTLI_OPERATION_FLUSH };
const DECODERS = new Map<string, (body: Buffer) => Buffer>([
  ['gzip', (body) => gunzipSync(body, GZIP)],
  ['x-gzip', (body) => gunzipSync(body, GZIP)],
  ['deflate', (body) => (body.length > 0 && ((body[0] ?? 0) & 0x0f) === 0x08 ? inflateSync(body, GZIP) : inflateRawSync(body, GZIP))],
  ['br', (body) => brotliDecompressSync(body, BROTLI)],
]);

/**
 * A body compressed anyway (by a proxy that ignores accept-encoding), decoded; its headers
 * made to match. Content-Encoding is a list, in the order applied (RFC 9110 §8.4): undone
 * last first. A coding not known leaves the body as it came, as fetch does. Throws when the
 * body does not decode.
 */
function decoded(body: Buffer, headers: Headers): Buffer {
  const header = headers.get('content-encoding');
  if (header === null) return body;
  const codings = header.split(',').map((coding) => coding.trim().toLowerCase()).filter((coding) => coding !== '' && coding !== 'identity');
  const decoders = codings.map((coding) => DECODERS.get(coding));
  if (decoders.length === 0 || decoders.some((decode) => decode === undefined)) return body;
  let bytes = body;
  for (const decode of decoders.reverse()) bytes = (decode as (body: Buffer) => Buffer)(bytes);
  headers.delete('content-encoding');
  headers.delete('content-length');
  return bytes;
}

/** An answer whose body does not decode: its status and headers, and a body whose reading fails (fetch's "terminated"). */
function undecodable(error: unknown, status: number, headers: Headers): Response {
  // A status a Response cannot carry: the decoding's own failure, as before.
  if (status < 200 || status > 599) throw error;
  const failure = new TypeError('terminated', { cause: error });
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.error(failure);
    },
  });
  return new Response(body, { status, headers });
}

/** The request's headers as undici takes them, whatever form the SDK built them in. */
function headerPairs(init: RequestInit['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of init instanceof Headers ? init : new Headers(init)) out[name] = value;
  return out;
}

/** Why a request never reached the server: the connection itself failed, before any answer. */
export interface ConnectionFailure {
  /** The system or OpenSSL code (ECONNREFUSED, ENOTFOUND, ERR_SSL_WRONG_VERSION_NUMBER...). */
  code: string;
  /** In words, for a person. */
  what: string;
}

/** Failed while connecting: nothing was sent, no server answered. */
const CONNECT_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused: nothing listens at that address',
  ENOTFOUND: 'the host name does not resolve (DNS)',
  EAI_AGAIN: 'the host name could not be resolved (DNS did not answer)',
  EAI_FAIL: 'the host name could not be resolved (DNS failure)',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  EHOSTDOWN: 'the host is down',
  ENETDOWN: 'the network is down',
  EADDRNOTAVAIL: 'the address is not available from this machine',
  UND_ERR_CONNECT_TIMEOUT: 'the connection timed out',
};

/** Certificate checks that fail on every request until the endpoint or the trust store changes. */
const CERT_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'EPROTO',
]);

/**
 * The connection failure behind an error (the SDK wraps it as the `cause` of an
 * APIConnectionError; undici throws it as is), or undefined when the request did reach
 * a server (a reset mid-answer, a timeout waiting for one: those may pass on a retry of
 * that one request, and are not the endpoint being unreachable).
 */
export function connectionFailureOf(error: unknown): ConnectionFailure | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') {
      const what = CONNECT_CODES[code];
      if (what !== undefined) return { code, what };
      if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || CERT_CODES.has(code)) {
        return { code, what: `the TLS handshake failed (${code}): the endpoint does not speak HTTPS there, or its certificate is not trusted` };
      }
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The host[:port] of an endpoint, for a message: never its path, query or credentials. */
export function endpointHost(baseUrl: string): string {
  try {
    return new URL(baseUrl).host || 'the configured base_url';
  } catch {
    return 'the configured base_url';
  }
}
