import type { IncomingMessage, ServerResponse } from 'node:http';

export function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`${JSON.stringify(body)}\n`);
}

/** What came of reading a JSON body: an object, or why there is none. */
export type BodyRead = { ok: true; value: Record<string, unknown> } | { ok: false; status: 400 | 408 | 413; error: string };

const MAX_BODY = 10_000;

/**
 * Reads a small JSON object body (empty means `{}`). A client that sends it too slowly
 * (past `timeoutMs`) or hangs up gets an answer instead of holding the server's one run
 * slot for ever; never throws.
 */
export async function readJson(req: IncomingMessage, timeoutMs: number): Promise<BodyRead> {
  const chunks: Buffer[] = [];
  let size = 0;
  const timer = setTimeout(() => req.destroy(new Error('body timeout')), timeoutMs);
  try {
    for await (const chunk of req) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      size += buffer.length;
      if (size > MAX_BODY) return { ok: false, status: 413, error: `the body must be at most ${MAX_BODY} bytes` };
      chunks.push(buffer);
    }
  } catch {
    return { ok: false, status: 408, error: `the body did not arrive within ${timeoutMs / 1000} s` };
  } finally {
    clearTimeout(timer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return { ok: true, value: {} };
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return { ok: true, value: value as Record<string, unknown> };
  } catch {
    // Answered below, like any other body that is not an object.
  }
  return { ok: false, status: 400, error: 'the body must be a JSON object (or empty), e.g. {"force": true}' };
}
