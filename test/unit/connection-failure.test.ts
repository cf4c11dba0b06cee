/**
 * Issue 19, item 1: which failures mean the endpoint cannot be reached at all (nothing
 * was sent, no server answered), and what a person is told: the endpoint's host in the
 * hint, never its URL (nor a key) in a message that may end up in a cell.
 */
import { createServer as createHttpServer } from 'node:http';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { connectionFailureOf, endpointHost } from '../../src/llm/http.js';
import { Provider } from '../../src/llm/index.js';
import type { ProviderConfig } from '../../src/config/index.js';
import { closedPort } from '../support/closed-port.js';

const KEY = 'sk-test-connection-0123456789abcdef';

function providerAt(baseUrl: string): Provider {
  const config = { name: 'primary', model: 'gpt-5-mini', base_url: baseUrl, api_key_env: 'SOME_KEY', structured_outputs: 'auto' } as unknown as ProviderConfig;
  return new Provider(config, { apiKey: KEY, timeoutMs: 5_000, maxCompletionTokens: 100, promptCacheKey: 'k' });
}

describe('connectionFailureOf', () => {
  it.each([
    ['ECONNREFUSED', /connection refused/],
    ['ENOTFOUND', /DNS/],
    ['EAI_AGAIN', /DNS/],
    ['ERR_SSL_WRONG_VERSION_NUMBER', /TLS handshake failed/],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', /certificate/],
    ['ERR_TLS_CERT_ALTNAME_INVALID', /TLS/],
  ])('finds %s however deep the SDK wrapped it', (code, what) => {
    const inner = Object.assign(new Error(`connect ${code}`), { code });
    const wrapped = new Error('Connection error.', { cause: new TypeError('fetch failed', { cause: inner }) });
    expect(connectionFailureOf(wrapped)?.what).toMatch(what);
    expect(connectionFailureOf(inner)?.code).toBe(code);
  });

  it.each(['ECONNRESET', 'UND_ERR_SOCKET', 'ETIMEDOUT', undefined])('does not take %s (the server was reached, or may be) for an unreachable endpoint', (code) => {
    expect(connectionFailureOf(Object.assign(new Error('other side closed'), { code }))).toBeUndefined();
  });

  it('never throws, whatever it is given (a cycle of causes is followed a few levels only)', () => {
    const cyclic: { cause?: unknown; code: string } = { code: 'nope' };
    cyclic.cause = cyclic;
    expect(connectionFailureOf(cyclic)).toBeUndefined();
    fc.assert(
      fc.property(fc.anything(), (value) => {
        const found = connectionFailureOf(value);
        if (found) expect(typeof found.what).toBe('string');
      }),
      { numRuns: 2000 },
    );
  });
});

describe('endpointHost', () => {
  it('gives host and port, never path, query or credentials', () => {
    expect(endpointHost('https://user:secret@llm.internal.example:8443/v1?key=abc')).toBe('llm.internal.example:8443');
    expect(endpointHost('not a url')).toBe('the configured base_url');
    fc.assert(
      fc.property(fc.string(), (text) => {
        expect(typeof endpointHost(text)).toBe('string');
      }),
    );
  });
});

describe('a provider that cannot be reached', () => {
  it('fails as unreachable: the message names the provider, not the URL; the hint names the host; no key anywhere', async () => {
    const port = await closedPort();
    const provider = providerAt(`http://127.0.0.1:${port}/v1`);
    const error = await provider.complete([{ role: 'user', content: 'hello' }]).then(
      () => undefined,
      (e: unknown) => provider.explain(e),
    );
    expect(error?.kind).toBe('unreachable');
    expect(error?.retryable).toBe(true);
    expect(error?.message).toMatch(/^could not connect to provider "primary" \(model gpt-5-mini\): connection refused/);
    expect(error?.message).not.toMatch(/127\.0\.0\.1|http:/);
    expect(error?.hint).toContain(`127.0.0.1:${port}`);
    expect(`${error?.message} ${error?.hint}`).not.toContain(KEY);
  });
});

describe('a provider error that quotes the endpoint', () => {
  it("keeps this provider's address out of the message (it may go into an Issues cell), and other links in", async () => {
    // A gateway's 502 that names the upstream it could not reach, as proxies do.
    const server = createHttpServer((req, res) => {
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `upstream http://${req.headers.host ?? ''}/v1/chat/completions failed; see https://status.example.com/incidents`, type: 'server_error' } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as { port: number };
      const provider = providerAt(`http://127.0.0.1:${port}/v1`);
      const error = await provider.complete([{ role: 'user', content: 'hello' }]).then(
        () => undefined,
        (e: unknown) => provider.explain(e),
      );
      expect(error?.kind).toBe('transient');
      expect(error?.message).toContain('failed (502: upstream <endpoint>/chat/completions failed; see https://status.example.com/incidents)');
      expect(error?.message).not.toContain('127.0.0.1');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
