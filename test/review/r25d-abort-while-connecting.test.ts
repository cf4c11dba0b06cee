/**
 * r25d review (af52c15, src/llm/http.ts): jsonFetch ignores an abort while its request waits
 * for a connection.
 *
 * The defect: exchange() holds the signal's reason until undici calls onRequestStart, which
 * undici does only once the socket is connected (TLS handshake included). A provider whose
 * TCP accepts but whose TLS handshake never completes (a stuck load balancer, a firewall that
 * black-holes after SYN-ACK) keeps the request "connecting" until undici's 10 s connect
 * timeout: the abort does nothing meanwhile, and the request finally rejects with undici's
 * ConnectTimeoutError, not the signal's reason.
 *
 * Contract broken: http.ts's own (exchange's comment: "an abort rejects with the signal's
 * reason ... whether the request waits for a connection, for its answer or for its body"),
 * the global fetch's that jsonFetch replaced (the openai SDK's `timeout` aborts its signal and
 * expects an AbortError back: APIConnectionTimeoutError, not a connection failure it retries),
 * and DESIGN's exit-code contract "a second Ctrl-C cancels model calls" (the abort signal the
 * CLI's second signal fires reaches jsonFetch through the SDK).
 *
 * Expected: as fetch does, jsonFetch rejects promptly (well under a second) with the signal's
 * reason, whatever phase the request is in; the SDK reports its timeout as
 * APIConnectionTimeoutError.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import OpenAI, { APIConnectionTimeoutError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonFetch } from '../../src/llm/http.js';
import { startBed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

/** Accepts TCP and never says a byte: a TLS handshake to it never completes. */
let server: Server;
let base = '';
const sockets = new Set<Socket>();
beforeAll(async () => {
  server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  for (const socket of sockets) socket.destroy();
  server.close();
});

/** How long `fetcher` takes to settle once its signal aborts 300 ms in, and with what. */
async function abortedAfter300(fetcher: typeof fetch): Promise<{ ms: number; error: unknown }> {
  const controller = new AbortController();
  const reason = new Error('cancelled by the test');
  setTimeout(() => controller.abort(reason), 300);
  const start = Date.now();
  try {
    await fetcher(`${base}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}', signal: controller.signal });
    return { ms: Date.now() - start, error: undefined };
  } catch (error) {
    return { ms: Date.now() - start, error };
  }
}

describe('jsonFetch aborted while connecting (TLS handshake never completes)', () => {
  it('the global fetch, which jsonFetch replaced, rejects at once with the signal\'s reason', async () => {
    const { ms, error } = await abortedAfter300(fetch);
    expect(ms).toBeLessThan(1500);
    expect((error as Error).message).toBe('cancelled by the test');
  }, 20_000);

  it('jsonFetch rejects as promptly, with the signal\'s reason (not undici\'s connect timeout 10 s later)', async () => {
    const { ms, error } = await abortedAfter300(jsonFetch);
    expect((error as Error | undefined)?.message).toBe('cancelled by the test');
    expect(ms).toBeLessThan(1500);
  }, 20_000);

  it('the openai SDK\'s timeout is reported as APIConnectionTimeoutError within the timeout, as with fetch', async () => {
    const client = new OpenAI({ apiKey: 'k', baseURL: `${base}/v1`, maxRetries: 0, timeout: 500, fetch: jsonFetch });
    const start = Date.now();
    const error = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(Date.now() - start).toBeLessThan(2000);
    expect(error).toBeInstanceOf(APIConnectionTimeoutError);
  }, 20_000);

  it('a run whose provider hangs in the TLS handshake ends at the second Ctrl-C (DESIGN: it cancels the model calls), not 10 s later', async () => {
    const bed = await startBed({ rows: sampleRows(2) });
    try {
      bed.setConfig({ llm: { max_retries: 0, providers: [{ name: 'emulator', model: 'gpt-5-mini', base_url: `${base}/v1`, api_key_env: 'TEST_OPENAI_KEY' }] } });
      const stop = new AbortController();
      const abort = new AbortController();
      const start = Date.now();
      const ran = bed.cli(['run', '--config', bed.configPath], { stop: stop.signal, abort: abort.signal });
      // Once the run's first calls are connecting: Ctrl-C, then Ctrl-C again.
      setTimeout(() => {
        stop.abort(new Error('SIGINT'));
        abort.abort(new Error('SIGINT'));
      }, 1500);
      const result = await ran;
      expect(result.code, result.stderr).toBe(130);
      expect(Date.now() - start).toBeLessThan(4000);
    } finally {
      await bed.close();
    }
  }, 30_000);
});
