/**
 * Review of issue 20 item 3 (Vertex AI with the service account's OAuth tokens,
 * src/llm/google-token.ts): a token endpoint that accepts the connection and never answers
 * hangs the whole run forever.
 *
 * googleBearerFetch awaits `tokens.bearer()` before it sends anything, and neither that
 * wait nor google-auth-library's token request (gaxios: no timeout by default) honours the
 * SDK's AbortSignal. The openai SDK's request timeout only aborts the signal it passed to
 * fetch (openai/client.js fetchWithTimeout), so llm.request_timeout_seconds never fires and
 * Ctrl-C's abort never reaches it either: the run neither answers nor stops nor says why.
 * Every other wait of the bot is bounded (DESIGN invariants 6/10: a provider that cannot
 * be reached is given up and the run says so; README promises request_timeout_seconds).
 *
 * Run: npx vitest run test/review/vertex-token-endpoint-hangs.test.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';
import { startVertexAuthority, vertexBaseUrl } from '../support/vertex-auth.js';

let bed: Bed | undefined;
let hang: { server: Server; sockets: Set<Socket> } | undefined;
let closeTokens: (() => Promise<void>) | undefined;
afterEach(async () => {
  // Dropping the held connections lets the stuck run end before the bed closes.
  for (const socket of hang?.sockets ?? []) socket.destroy();
  await new Promise<void>((resolve) => (hang ? hang.server.close(() => resolve()) : resolve()));
  await bed?.close();
  await closeTokens?.();
  bed = undefined;
  hang = undefined;
  closeTokens = undefined;
});

/** A token endpoint that takes the connection and the request and never answers (a stuck proxy, a black-holed route). */
async function hangingEndpoint(): Promise<string> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  hang = { server, sockets };
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return `http://127.0.0.1:${address.port}/token`;
}

it('a token endpoint that never answers does not hang the run: it ends within the request timeout and its retries', async () => {
  const rows = sampleRows(3);
  const authority = await startVertexAuthority();
  closeTokens = () => authority.tokens.close();
  const b = (bed = await startBed({
    rows,
    llm: { profile: 'vertex', models: ['google/gemini-2.5-flash'], authorize: authority.authorize },
    config: { llm: { max_workers: 2, max_retries: 1, request_timeout_seconds: 2 } },
  }));
  authority.adopt(b);
  const keyFile = path.join(b.dir, 'credentials.json');
  const key = JSON.parse(readFileSync(keyFile, 'utf8')) as Record<string, unknown>;
  writeFileSync(keyFile, JSON.stringify({ ...key, token_uri: await hangingEndpoint() }), { mode: 0o600 });
  b.setConfig({ llm: { providers: [{ name: 'vertex', kind: 'vertex', model: 'google/gemini-2.5-flash', base_url: vertexBaseUrl(b) }] } });
  b.env = {};

  const outcome = await Promise.race([b.run('--json').then((r) => ({ ended: true as const, code: r.code })), new Promise<{ ended: false }>((resolve) => setTimeout(() => resolve({ ended: false }), 45_000))]);
  expect(outcome.ended, 'the run was still waiting for a token after 45 s (request_timeout_seconds: 2, max_retries: 1)').toBe(true);
  // Nothing answered: the run must not claim success.
  if (outcome.ended) expect(outcome.code).not.toBe(0);
}, 60_000);
