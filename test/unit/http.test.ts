import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { jsonFetch, sentTo } from '../../src/llm/http.js';
import { closedPort } from '../support/closed-port.js';
import { BufferedResponse } from '../../src/llm/buffered-response.js';
import { localServer } from '../support/local-server.js';

/** A real HTTP server on 127.0.0.1 whose handler each test sets. */
let handle: (req: IncomingMessage, body: string, res: ServerResponse) => void = (_req, _body, res) => res.end();

const served = localServer((req, res) => {
  let body = '';
  req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
  req.on('end', () => handle(req, body, res));
});

describe('jsonFetch', () => {
  it('sends the method, headers and JSON body, and returns status, headers and body read as a Response reads (a BufferedResponse: test/unit/buffered-response.test.ts)', async () => {
    let seen: Record<string, string | undefined> = {};
    handle = (req, body, res) => {
      seen = { method: req.method, auth: req.headers.authorization, type: req.headers['content-type'], body };
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after-ms': '250', 'x-request-id': 'req_1' });
      res.end(JSON.stringify({ error: { message: 'slow down' } }));
    };
    const response = await jsonFetch(`${served.base}/v1/chat/completions`, {
      method: 'POST',
      headers: new Headers({ authorization: 'Bearer k', 'content-type': 'application/json' }),
      body: JSON.stringify({ model: 'm' }),
    });
    expect(seen).toEqual({ method: 'POST', auth: 'Bearer k', type: 'application/json', body: '{"model":"m"}' });
    expect(response).toBeInstanceOf(BufferedResponse);
    expect(response.url).toBe(`${served.base}/v1/chat/completions`);
    expect(response.status).toBe(429);
    expect(response.ok).toBe(false);
    expect(response.headers.get('retry-after-ms')).toBe('250');
    expect(response.headers.get('x-request-id')).toBe('req_1');
    expect(await response.json()).toEqual({ error: { message: 'slow down' } });
    expect(response.bodyUsed).toBe(true);
    await expect(response.text()).rejects.toThrow(TypeError);
  });

  it('keeps every value of a repeated header, and answers a 204 with no body', async () => {
    handle = (_req, _body, res) => {
      res.setHeader('x-multi', ['a', 'b']);
      res.writeHead(204);
      res.end();
    };
    const response = await jsonFetch(`${served.base}/x`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(response.status).toBe(204);
    expect(response.headers.get('x-multi')).toBe('a, b');
    expect(response.body).toBeNull();
  });

  it('follows a redirect with the same body, as the standard fetch does', async () => {
    const bodies: string[] = [];
    handle = (req, body, res) => {
      bodies.push(`${req.url} ${body}`);
      if (req.url === '/old') res.writeHead(307, { location: '/new' }).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    };
    const response = await jsonFetch(`${served.base}/old`, { method: 'POST', body: '{"n":1}' });
    expect(await response.json()).toEqual({ ok: true });
    expect(bodies).toEqual(['/old {"n":1}', '/new {"n":1}']);
  });

  it('asks for uncompressed answers, and decodes one compressed anyway (a proxy ignoring the ask)', async () => {
    let accepted = '';
    handle = (req, _body, res) => {
      accepted = req.headers['accept-encoding'] ?? '';
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(gzipSync('{"answer":"é"}'));
    };
    const response = await jsonFetch(`${served.base}/gz`, { method: 'POST', body: '{}' });
    expect(accepted).toBe('identity');
    expect(response.headers.get('content-encoding')).toBeNull();
    expect(await response.json()).toEqual({ answer: 'é' });
  });

  it('stops when the signal aborts, also while the body is still arriving, with an AbortError', async () => {
    handle = (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"partial":'); // and never ends
    };
    const controller = new AbortController();
    const pending = jsonFetch(`${served.base}/slow`, { method: 'POST', body: '{}', signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('rejects with the signal\'s own reason, aborted before sending, while waiting for the answer or while its body arrives', async () => {
    const reason = new Error('stop: the run ends');
    const before = new AbortController();
    before.abort(reason);
    let arrived = 0;
    handle = (req, _body, res) => {
      arrived++;
      if (req.url === '/headers') res.writeHead(200, { 'content-type': 'application/json' }).write('{"partial":');
      // '/wait': no answer at all until the abort
    };
    await expect(jsonFetch(`${served.base}/before`, { method: 'POST', body: '{}', signal: before.signal })).rejects.toBe(reason);
    for (const path of ['/wait', '/headers']) {
      const controller = new AbortController();
      const pending = jsonFetch(`${served.base}${path}`, { method: 'POST', body: '{}', signal: controller.signal });
      setTimeout(() => controller.abort(reason), 50);
      await expect(pending).rejects.toBe(reason);
    }
    expect(arrived).toBe(2);
  });

  it('reads a body that arrives in many chunks, whole', async () => {
    const big = JSON.stringify({ text: 'x'.repeat(300_000) });
    handle = (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < big.length; i += 10_000) res.write(big.slice(i, i + 10_000));
      res.end();
    };
    const response = await jsonFetch(`${served.base}/big`, { method: 'POST', body: '{}' });
    expect(await response.text()).toBe(big);
  });

  it('fails with a connection error when the server drops the connection', async () => {
    handle = (req) => req.socket.destroy();
    await expect(jsonFetch(`${served.base}/drop`, { method: 'POST', body: '{}' })).rejects.toThrow();
  });

  it('sends bodies that are not a string (file uploads) through the standard fetch', async () => {
    let type = '';
    let received = '';
    handle = (req, body, res) => {
      type = req.headers['content-type'] ?? '';
      received = body;
      res.end('{}');
    };
    const form = new FormData();
    form.append('purpose', 'batch');
    const response = await jsonFetch(`${served.base}/v1/files`, { method: 'POST', body: form });
    expect(response.status).toBe(200);
    expect(type).toMatch(/^multipart\/form-data; boundary=/);
    expect(received).toContain('name="purpose"');
  });

  it('tells sentTo\'s callback once the request is written, before the server has answered; again for a redirect\'s second request', async () => {
    const events: string[] = [];
    handle = (req, _body, res) => {
      events.push(`server got ${req.url}`);
      if (req.url === '/old') res.writeHead(307, { location: '/new' }).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    };
    const response = await jsonFetch(`${served.base}/old`, { method: 'POST', body: '{}', ...sentTo(() => events.push('written')) });
    expect(response.status).toBe(200);
    expect(events).toEqual(['written', 'server got /old', 'written', 'server got /new']);
  });

  it('never tells sentTo\'s callback of a request that was not written: nothing listens, or it was aborted first', async () => {
    let written = 0;
    const port = await closedPort();
    await expect(jsonFetch(`http://127.0.0.1:${port}/v1/chat/completions`, { method: 'POST', body: '{}', ...sentTo(() => written++) })).rejects.toThrow();
    const aborted = AbortSignal.abort(new Error('stopped'));
    await expect(jsonFetch(`${served.base}/x`, { method: 'POST', body: '{}', signal: aborted, ...sentTo(() => written++) })).rejects.toThrow('stopped');
    expect(written).toBe(0);
  });
});
