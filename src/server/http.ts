import type { IncomingMessage, ServerResponse } from 'node:http';

export function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`${JSON.stringify(body)}\n`);
}

/** What came of reading a JSON body: an object, or why there is none. */
export type BodyRead = { ok: true; value: Record<string, unknown> } | { ok: false; status: 400 | 408 | 413; error: string };

/** The default cap on a body (a caller may allow more: POST /runs takes up to serve.max_rows ids). */
export const MAX_BODY = 10_000;

/** Past this much of an oversized body the reader stops draining it and hangs up after its answer. */
const MAX_DRAIN = 1024 * 1024;

/**
 * Reads a small JSON object body (empty means `{}`). A client that sends it too slowly
 * (past `timeoutMs`) gets a 408 to send rather than holding anything for ever; an
 * oversized body is drained (up to a megabyte) so that its 413 reaches the caller
 * instead of a reset. The request is never destroyed here: the caller answers, with
 * `connection: close` (see `closeAfter`), and Node closes the socket once the answer
 * is out. Never throws.
 */
export function readJson(req: IncomingMessage, timeoutMs: number, maxBytes = MAX_BODY): Promise<BodyRead> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const tooLarge: BodyRead = { ok: false, status: 413, error: `the body must be at most ${maxBytes} bytes` };
    const finish = (result: BodyRead) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onError);
      // The rest of the body is not wanted: stop buffering it (the answer closes the connection).
      if (!result.ok) req.pause();
      resolve(result);
    };
    const timer = setTimeout(() => finish(size > maxBytes ? tooLarge : { ok: false, status: 408, error: `the body did not arrive within ${timeoutMs / 1000} s` }), timeoutMs);
    const onData = (chunk: unknown) => {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      size += buffer.length;
      if (size <= maxBytes) chunks.push(buffer);
      else if (size > MAX_DRAIN) finish(tooLarge);
    };
    const onEnd = () => finish(size > maxBytes ? tooLarge : parse(Buffer.concat(chunks).toString('utf8')));
    // A hang-up: no one is left to answer, but the caller still gets a result it can act on.
    const onError = () => finish({ ok: false, status: 400, error: 'the request ended before its body arrived' });
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onError);
  });
}

function parse(text: string): BodyRead {
  if (text.trim() === '') return { ok: true, value: {} };
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return { ok: true, value: value as Record<string, unknown> };
  } catch {
    // Answered below, like any other body that is not an object.
  }
  return { ok: false, status: 400, error: 'the body must be a JSON object (or empty), e.g. {"force": true}' };
}

/** Marks an answer as the connection's last: a body left unread (too slow, too large) cannot be followed by another request. */
export function closeAfter(res: ServerResponse): void {
  if (!res.headersSent) res.setHeader('connection', 'close');
}

/** The requests being answered: `idle` resolves once none is, and the runs (`runsIdle`) have ended too. */
export class InFlight {
  private count = 0;
  private waiters: Array<() => void> = [];

  enter(res: ServerResponse): void {
    this.count++;
    res.once('close', () => {
      this.count--;
      if (this.count > 0) return;
      const waiters = this.waiters;
      this.waiters = [];
      for (const resolve of waiters) resolve();
    });
  }

  async idle(runsIdle: () => Promise<void>): Promise<void> {
    for (;;) {
      await runsIdle();
      if (this.count === 0) return;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
}
