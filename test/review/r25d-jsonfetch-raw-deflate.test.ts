/**
 * r25d review (af52c15, src/llm/http.ts): an answer sent with `Content-Encoding: deflate` as a
 * raw DEFLATE stream (no zlib header) fails in jsonFetch; fetch reads it.
 *
 * The defect: decoded() maps `deflate` to inflateSync, which takes only the zlib format
 * (RFC 1950). Servers have long sent raw DEFLATE (RFC 1951) under that name, and browsers and
 * undici's fetch (which jsonFetch replaced) accept both, telling them apart by the first byte.
 * jsonFetch rejects with "incorrect header check" (Z_DATA_ERROR): the openai SDK wraps it as
 * APIConnectionError and the row's answer, which the provider did send (and bill), is lost to
 * retries that fail the same way.
 *
 * Contract broken: http.ts's own ("A body compressed anyway (by a proxy that ignores
 * accept-encoding), decoded") and parity with fetch, which the SDK was written against.
 *
 * Expected: jsonFetch returns the JSON, as fetch does, for deflate in either form.
 */
import { deflateRawSync, deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { jsonFetch } from '../../src/llm/http.js';
import { localServer } from '../support/local-server.js';

const ANSWER = JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', choices: [] });
const served = localServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'deflate' });
    res.end(req.url === '/raw' ? deflateRawSync(ANSWER) : deflateSync(ANSWER));
  });
});

describe('jsonFetch and Content-Encoding: deflate', () => {
  for (const path of ['/zlib', '/raw']) {
    it(`${path}: read as fetch reads it`, async () => {
      const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' };
      expect(await (await fetch(`${served.base}${path}`, init)).text()).toBe(ANSWER);
      expect(await (await jsonFetch(`${served.base}${path}`, init)).text()).toBe(ANSWER);
    });
  }
});
