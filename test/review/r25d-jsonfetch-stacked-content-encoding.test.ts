/**
 * r25d review (af52c15, src/llm/http.ts): jsonFetch hands the SDK a still-compressed body when
 * Content-Encoding lists more than one coding.
 *
 * The defect: decoded() looks the whole Content-Encoding value up as one coding name. RFC 9110
 * §8.4 (https://www.rfc-editor.org/rfc/rfc9110#section-8.4) makes the field a list "in the order
 * in which they were applied" (e.g. `gzip, br` from a provider and a proxy that both ignore
 * accept-encoding: identity), and the global fetch that jsonFetch replaced decodes each in
 * reverse order. jsonFetch instead returns the compressed bytes as the body, with the
 * Content-Encoding header left on: the SDK's response.json() throws a SyntaxError on binary,
 * which is neither an API error nor retried, and the row fails with a message about JSON.
 *
 * Contract broken: http.ts's own ("A body compressed anyway (by a proxy that ignores
 * accept-encoding), decoded; its headers made to match") and parity with fetch, which the
 * openai SDK was written against.
 *
 * Expected: as with fetch, the JSON the server compressed, and no Content-Encoding left on the
 * Response; for `gzip, gzip` and `gzip, br` alike.
 */
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { jsonFetch } from '../../src/llm/http.js';
import { localServer } from '../support/local-server.js';

const ANSWER = JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', choices: [] });
const served = localServer((req, res) => {
  req.resume();
  req.on('end', () => {
    // Applied in the order the header lists them.
    const stacked = req.url === '/gzip-br' ? brotliCompressSync(gzipSync(ANSWER)) : gzipSync(gzipSync(ANSWER));
    res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': req.url === '/gzip-br' ? 'gzip, br' : 'gzip, gzip' });
    res.end(stacked);
  });
});

describe('jsonFetch and a Content-Encoding of more than one coding', () => {
  for (const path of ['/gzip-gzip', '/gzip-br']) {
    it(`${path}: fetch decodes it, and so must jsonFetch`, async () => {
      const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' };
      const viaFetch = await fetch(`${served.base}${path}`, init);
      expect(await viaFetch.text()).toBe(ANSWER);
      const response = await jsonFetch(`${served.base}${path}`, init);
      expect(response.headers.get('content-encoding')).toBeNull();
      expect(await response.text()).toBe(ANSWER);
    });
  }
});
