/**
 * r25d review (af52c15, src/llm/http.ts): an HTTP error whose body cannot be decoded reaches
 * the openai SDK as a connection failure, its status lost.
 *
 * The defect: jsonFetch decodes the whole body with gunzipSync/brotliDecompressSync before it
 * builds the Response, and lets the zlib error escape. Proxies and gateways answer 429/500/502
 * with `Content-Encoding: gzip` and an empty body, or with an HTML page labelled gzip; the global
 * fetch that jsonFetch replaced resolves with the status (its body decoding fails only when read,
 * and the SDK reads an error's body with `.text().catch(...)`), so the SDK raised
 * RateLimitError / InternalServerError / APIError with the status, and the pipeline honoured
 * 429's retry-after and told a 5xx from an unreachable endpoint. jsonFetch instead rejects with
 * "unexpected end of file" (Z_BUF_ERROR) or "incorrect header check" (Z_DATA_ERROR): the SDK
 * wraps it as APIConnectionError, no status.
 *
 * Contract broken: the brief of af52c15 ("the openai SDK must see the same errors ... as
 * before"), http.ts's own comment (jsonFetch's outcome is `request`'s/fetch's), and the
 * pipeline's status-based handling of 429 (retry-after) and 5xx.
 *
 * Expected: the SDK sees the same error class and status through jsonFetch as through fetch,
 * for an empty gzip 429, an empty gzip 500, an empty br 502, and a 502 page labelled gzip.
 */
import fc from 'fast-check';
import OpenAI, { APIError } from 'openai';
import { describe, expect, it } from 'vitest';
import { jsonFetch } from '../../src/llm/http.js';
import { localServer } from '../support/local-server.js';

/** What /random answers (set by the property below). */
let random = { status: 500, encoding: 'gzip', body: Buffer.alloc(0) };
const served = localServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const kind = req.url?.split('/')[1];
    if (kind === 'random') res.writeHead(random.status, { 'content-encoding': random.encoding, 'content-length': String(random.body.length) }).end(random.body);
    else if (kind === 'empty429') res.writeHead(429, { 'content-encoding': 'gzip', 'retry-after': '1', 'content-length': '0' }).end();
    else if (kind === 'empty500') res.writeHead(500, { 'content-encoding': 'gzip', 'content-length': '0' }).end();
    else if (kind === 'emptybr502') res.writeHead(502, { 'content-encoding': 'br', 'content-length': '0' }).end();
    else res.writeHead(502, { 'content-encoding': 'gzip', 'content-type': 'text/html' }).end('<html><body>502 Bad Gateway</body></html>');
  });
});

async function sdkError(kind: string, fetcher: typeof fetch): Promise<{ name: string; status: number | undefined }> {
  const client = new OpenAI({ apiKey: 'k', baseURL: `${served.base}/${kind}/v1`, maxRetries: 0, timeout: 5000, fetch: fetcher });
  try {
    await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    return { name: 'none', status: undefined };
  } catch (error) {
    return { name: (error as Error).constructor.name, status: error instanceof APIError ? (error.status as number | undefined) : undefined };
  }
}

describe('an error answer labelled compressed whose body does not decode', () => {
  for (const [kind, status] of [['empty429', 429], ['empty500', 500], ['emptybr502', 502], ['html502', 502]] as const) {
    it(`${kind}: the SDK sees HTTP ${status} through jsonFetch, as through fetch`, async () => {
      const viaFetch = await sdkError(kind, fetch);
      expect(viaFetch.status).toBe(status);
      expect(await sdkError(kind, jsonFetch)).toEqual(viaFetch);
    });
  }

  it('property: whatever bytes an answer labelled gzip/br/deflate carries, jsonFetch resolves with its status, as fetch does', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(400, 429, 500, 502, 503), fc.constantFrom('gzip', 'x-gzip', 'br', 'deflate'), fc.uint8Array({ maxLength: 64 }), async (status, encoding, bytes) => {
        random = { status, encoding, body: Buffer.from(bytes) };
        const viaFetch = await fetch(`${served.base}/random`, { method: 'POST', body: '{}' });
        await viaFetch.arrayBuffer().catch(() => undefined);
        const response = await jsonFetch(`${served.base}/random`, { method: 'POST', body: '{}' });
        expect(response.status).toBe(viaFetch.status);
      }),
      { numRuns: 40 },
    );
  });
});
