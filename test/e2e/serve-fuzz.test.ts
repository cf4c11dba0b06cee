/**
 * Issue 13, item 6: 5,000 random requests (methods, paths, headers, bodies, some raw
 * bytes that are not HTTP) to `serve`: it never crashes, never answers a 5xx other than
 * a clean 500 JSON, every answer is JSON without a stack or a secret, and memory stays flat.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { API_KEY, SPREADSHEET_ID, TAB, startBed, type Bed } from '../support/bed.js';
import { CLIENT_ID, idClaims, startGoogleCerts, type GoogleCerts } from '../support/google-certs.js';
import { sampleRows } from '../support/sample-data.js';
import { startServe } from '../support/serve.js';

const TOKEN = 'machine-token-0123456789abcdef';

let bed: Bed | undefined;
let certs: GoogleCerts | undefined;
afterEach(async () => {
  await bed?.close();
  await certs?.close();
});

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapAfterGc = () => {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
};

interface Shot {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

interface Reply {
  status: number;
  type: string;
  text: string;
}

function send(base: URL, shot: Shot): Promise<Reply | undefined> {
  return new Promise((resolve) => {
    let req;
    try {
      req = request({ host: base.hostname, port: base.port, method: shot.method, path: shot.path, headers: shot.headers });
    } catch {
      return resolve(undefined); // a request Node itself refuses to send (bad header characters): not sent
    }
    req.setTimeout(20_000, () => req.destroy());
    req.once('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), text }));
      res.once('error', () => resolve(undefined));
    });
    req.once('error', () => resolve(undefined));
    req.end(shot.body);
  });
}

/** Bytes that are not a valid HTTP request: the answer (if any) must still be JSON. */
function sendRaw(base: URL, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(Number(base.port), base.hostname);
    let text = '';
    socket.setTimeout(5000, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.once('close', () => resolve(text));
    socket.once('error', () => resolve(text));
    socket.end(bytes);
  });
}

describe('serve under random requests', () => {
  it('answers 5,000 random requests with JSON, no 5xx but a clean 500, no secret, and flat memory', { timeout: 240_000 }, async () => {
    certs = await startGoogleCerts();
    const c = certs;
    bed = await startBed({ rows: sampleRows(3), config: { serve: { allow: ['alice@example.com'], google_client_id: CLIENT_ID, google_certs_url: c.url, runs_per_hour: 3 } } });
    const b = bed;
    const served = await startServe(b, { token: TOKEN });
    const base = new URL(served.base);
    const valid = c.sign(idClaims('alice@example.com'));

    const bearer = fc.oneof(
      fc.constant(undefined),
      fc.constant(`Bearer ${TOKEN}`),
      fc.constant(`Bearer ${valid}`),
      fc.string().map((s) => `Bearer ${s}`),
      fc.tuple(fc.base64String(), fc.base64String(), fc.base64String()).map((p) => `Bearer ${p.join('.').replace(/[+/=]/g, 'A')}`),
      fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })).map((claims) => `Bearer ${c.sign({ ...idClaims('alice@example.com'), ...claims })}`),
      fc.string({ maxLength: 20_000 }),
    );
    const body = fc.oneof(
      fc.constant(''),
      fc.string({ maxLength: 300 }),
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
      fc.record({ rows: fc.oneof(fc.array(fc.string({ maxLength: 12 }), { maxLength: 5 }), fc.jsonValue({ maxDepth: 1 })), force: fc.oneof(fc.boolean(), fc.jsonValue({ maxDepth: 1 })) }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
      // A person's request names the spreadsheet and the tab it comes from (issue 18): the real ones too, so that people's runs are planned.
      fc
        .record({ spreadsheet_id: fc.oneof(fc.constant(SPREADSHEET_ID), fc.string({ maxLength: 20 })), sheet: fc.oneof(fc.constant(TAB), fc.string({ maxLength: 20 })), rows: fc.array(fc.string({ maxLength: 12 }), { maxLength: 3 }) }, { requiredKeys: ['spreadsheet_id', 'sheet'] })
        .map((v) => JSON.stringify(v)),
      fc.string({ minLength: 10_001, maxLength: 12_000 }),
    );
    const shot = fc.record({
      method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'POST', 'POST'),
      path: fc.oneof(fc.constantFrom('/runs', '/health', '/runs/00000000-0000-4000-8000-000000000000', '/', '/runs/'), fc.webPath(), fc.string({ maxLength: 50 }).map((s) => `/${encodeURIComponent(s)}`)),
      bearer,
      type: fc.constantFrom('application/json', 'text/plain', 'x/y'),
      extra: fc.dictionary(fc.stringMatching(/^x-[a-z]{1,10}$/), fc.string({ maxLength: 100 }), { maxKeys: 3 }),
      body,
    });
    const shots: Shot[] = fc.sample(shot, { numRuns: 4950, seed: 13 }).map((s) => ({
      method: s.method,
      path: s.path,
      headers: { ...s.extra, 'content-type': s.type, ...(s.bearer === undefined ? {} : { authorization: s.bearer }) },
      body: s.method === 'GET' || s.method === 'HEAD' ? '' : s.body,
    }));
    const raws = fc.sample(fc.oneof(fc.string({ maxLength: 200 }), fc.constant('GET / HTTP/1.1\r\nHost: x\r\n' + `x-big: ${'a'.repeat(20_000)}\r\n\r\n`)), { numRuns: 50, seed: 13 });

    const replies: Reply[] = [];
    const check = async (list: Shot[]) => {
      for (let i = 0; i < list.length; i += 10) {
        const answered = await Promise.all(list.slice(i, i + 10).map((s) => send(base, s)));
        for (const reply of answered) if (reply) replies.push(reply);
      }
    };
    // Warm up (first connections, the tokenizer, the certificates), then measure.
    await check([{ method: 'POST', path: '/runs', headers: { 'content-type': 'application/json', authorization: `Bearer ${valid}` }, body: JSON.stringify({ spreadsheet_id: SPREADSHEET_ID, sheet: TAB }) }]);
    await check(shots.slice(0, 1000));
    const rawReplies = await Promise.all(raws.map((r) => sendRaw(base, r)));
    const heap = [heapAfterGc()];
    for (let i = 1000; i < shots.length; i += 1000) {
      await check(shots.slice(i, i + 1000));
      heap.push(heapAfterGc());
    }
    const figures = `heap after GC, MB, every 1,000 requests: ${heap.map((h) => (h / 1048576).toFixed(1)).join(' ')}`;
    const before = heap[0] ?? 0;
    const after = heap[heap.length - 1] ?? 0;

    expect(replies.length).toBeGreaterThan(4500);
    for (const reply of replies) {
      expect(reply.status < 500 || reply.status === 500, `${reply.status} ${reply.text}`).toBe(true);
      if (reply.text === '') continue; // HEAD
      expect(reply.type, reply.text).toContain('application/json');
      const json = JSON.parse(reply.text) as { error?: unknown };
      if (reply.status >= 400) expect(typeof json.error, reply.text).toBe('string');
      expect(reply.text).not.toMatch(/\n\s+at |Error: /);
      expect(reply.text).not.toContain(TOKEN);
      expect(reply.text).not.toContain(API_KEY);
    }
    for (const text of rawReplies) {
      if (text === '') continue;
      expect(text).toMatch(/^HTTP\/1\.1 4\d\d /);
      expect(text).toContain('application/json');
    }
    const statuses = new Set(replies.map((r) => r.status));
    // The random requests reached the real paths: refused, routed, admitted.
    expect([...statuses]).toEqual(expect.arrayContaining([400, 401, 404, 202]));
    // Flat: a leak of even a few hundred bytes a request would show as megabytes.
    expect(after - before, figures).toBeLessThan(20 * 1024 * 1024);
    const done = served.close();
    expect((await done).code).toBe(0);
  });
});
