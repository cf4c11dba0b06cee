/**
 * The service account's access tokens (Vertex AI): whatever a token endpoint answers, the
 * holder yields a token or a GoogleTokenError that says what Google said, never another
 * exception and never the key; concurrent callers share one request.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { GoogleTokenError, GoogleTokens } from '../../src/llm/google-token.js';
import { testPrivateKey } from '../support/bed.js';
import { startGoogleTokenEmulator, type GoogleTokenEmulator } from '../support/google-token-emulator.js';

const EMAIL = 'bot@status-validator-test.iam.gserviceaccount.com';
let server: Server | undefined;
let emulator: GoogleTokenEmulator | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await emulator?.close();
  server = undefined;
  emulator = undefined;
});

describe('GoogleTokens', () => {
  it('shares one token request among concurrent callers, and keeps the token while it is fresh', async () => {
    emulator = await startGoogleTokenEmulator();
    emulator.addAccount(EMAIL, testPrivateKey());
    const tokens = new GoogleTokens({ client_email: EMAIL, private_key: testPrivateKey(), token_uri: emulator.url });
    const got = await Promise.all(Array.from({ length: 8 }, () => tokens.bearer()));
    expect(new Set(got).size).toBe(1);
    expect(await tokens.bearer()).toBe(got[0]);
    expect(emulator.issued).toHaveLength(1);
    tokens.invalidate(got[0] ?? '');
    expect(await tokens.bearer()).not.toBe(got[0]);
    expect(emulator.issued).toHaveLength(2);
  });

  it('replaces a token a quarter of its life before it expires', async () => {
    emulator = await startGoogleTokenEmulator();
    emulator.addAccount(EMAIL, testPrivateKey());
    emulator.setLifetime(400);
    let now = Date.now();
    const tokens = new GoogleTokens({ client_email: EMAIL, private_key: testPrivateKey(), token_uri: emulator.url }, () => now);
    const first = await tokens.bearer();
    now += 299_000;
    expect(await tokens.bearer()).toBe(first);
    now += 2_000;
    expect(await tokens.bearer()).not.toBe(first);
  });

  it('any answer of a token endpoint gives a token or a GoogleTokenError, never the key', async () => {
    let answer: { status: number; body: string } = { status: 200, body: '{}' };
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(answer.body);
      });
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
    const body = fc.oneof(
      fc.string(),
      fc.json(),
      fc.record({ error: fc.oneof(fc.string(), fc.integer()), error_description: fc.option(fc.string()) }).map((o) => JSON.stringify(o)),
      fc.record({ access_token: fc.oneof(fc.string(), fc.constant(null)), expires_in: fc.oneof(fc.integer(), fc.string(), fc.constant(null)) }).map((o) => JSON.stringify(o)),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(200, 400, 401, 403), body, async (status, text) => {
        answer = { status, body: text };
        const tokens = new GoogleTokens({ client_email: EMAIL, private_key: testPrivateKey(), token_uri: url });
        try {
          const token = await tokens.bearer();
          expect(typeof token).toBe('string');
          expect(token).not.toBe('');
        } catch (error) {
          expect(error).toBeInstanceOf(GoogleTokenError);
          // A refusal (4xx) is final; a 200 without a token is a fault of the moment.
          if (status !== 200) expect((error as GoogleTokenError).retryable).toBe(false);
          expect((error as Error).message).not.toContain('PRIVATE KEY');
          expect((error as Error).message.length).toBeLessThan(600);
          // A private token_uri's path stays out of the message (it may become a row's Issues cell).
          expect((error as Error).message).not.toContain(url);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('a token endpoint failing on its side (5xx) is worth asking again later: a retryable error', async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end('backend unavailable');
      });
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
    const failed = await new GoogleTokens({ client_email: EMAIL, private_key: testPrivateKey(), token_uri: url }).bearer().catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(GoogleTokenError);
    expect((failed as GoogleTokenError).retryable).toBe(true);
    expect((failed as GoogleTokenError).message).toMatch(/could not ask Google's token endpoint .* \(503: /);
  });

  it('a token endpoint that never answers: the wait ends when the caller aborts, and the token request itself at its timeout', async () => {
    const held: Array<{ destroy: () => void }> = [];
    server = createServer((req) => {
      // Takes the request, never answers.
      held.push(req.socket);
      req.resume();
    });
    server.on('close', () => held.forEach((socket) => socket.destroy()));
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/private/token-path`;
    const tokens = new GoogleTokens({ client_email: EMAIL, private_key: testPrivateKey(), token_uri: url });
    const controller = new AbortController();
    const waiting = tokens.bearer(controller.signal, 1_500).catch((error: unknown) => error);
    setTimeout(() => controller.abort(), 100);
    const aborted = await waiting;
    // As fetch rejects on an aborted signal: the SDK reads the name to call it a timeout.
    expect((aborted as Error).name).toBe('AbortError');
    const started = Date.now();
    const timedOut = await tokens.bearer(undefined, 1_500).catch((error: unknown) => error);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(timedOut).toBeInstanceOf(GoogleTokenError);
    expect((timedOut as GoogleTokenError).retryable).toBe(true);
    expect((timedOut as GoogleTokenError).connection).toBeUndefined();
    expect((timedOut as GoogleTokenError).message).not.toContain('/private/token-path');
    for (const socket of held) socket.destroy();
  });

  it('a token endpoint that refuses connections is a connection failure (unreachable), named by host, never by its URL', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const tokens = new GoogleTokens({ client_email: EMAIL, private_key: testPrivateKey(), token_uri: `http://127.0.0.1:${port}/private/token-path` });
    const failed = await tokens.bearer().catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(GoogleTokenError);
    expect((failed as GoogleTokenError).connection?.code).toBe('ECONNREFUSED');
    expect((failed as GoogleTokenError).host).toBe(`127.0.0.1:${port}`);
    expect((failed as GoogleTokenError).message).not.toContain('/private/token-path');
  });
});
