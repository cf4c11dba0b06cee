/**
 * Review of issue 20 item 3 (Vertex AI via the service account's OAuth tokens) against
 * issue 19 item 1 / DESIGN invariant 6: "a model endpoint that cannot be reached at all
 * (connection refused, DNS failure, TLS failure) stops the run early, as a refused key
 * does: exit 1, ... nothing written to the sheet, no ERROR cells" (test/e2e/unreachable.test.ts).
 *
 * With Vertex, reaching the model needs the key file's token endpoint first. When that
 * endpoint cannot be connected to (a proxy or firewall that blocks oauth2.googleapis.com,
 * a DNS failure), src/llm/provider.ts classifies the GoogleTokenError as 'transient' (not
 * 'unreachable'): every row is retried and then ends ERROR, written into the sheet for
 * EVERY row (exit 3) — an outage turned into a sheet full of ERROR cells, instead of the
 * run stopping with the rows keeping what they show. Each cell also names the token
 * endpoint's URL (a private token_uri), which the bot otherwise keeps out of the sheet.
 *
 * Run: npx vitest run test/review/vertex-token-endpoint-unreachable.test.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';
import { startVertexAuthority, vertexBaseUrl } from '../support/vertex-auth.js';

let bed: Bed | undefined;
let closeTokens: (() => Promise<void>) | undefined;
afterEach(async () => {
  await bed?.close();
  await closeTokens?.();
  bed = undefined;
  closeTokens = undefined;
});

/** A port nothing listens on: connections are refused (ECONNREFUSED). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

it('a token endpoint that refuses connections stops the run (exit 1) and writes no ERROR cells', async () => {
  const rows = sampleRows(6);
  const authority = await startVertexAuthority();
  closeTokens = () => authority.tokens.close();
  const b = (bed = await startBed({
    rows,
    llm: { profile: 'vertex', models: ['google/gemini-2.5-flash'], authorize: authority.authorize },
    config: { llm: { max_workers: 2, max_retries: 1 } },
  }));
  authority.adopt(b);
  const keyFile = path.join(b.dir, 'credentials.json');
  const key = JSON.parse(readFileSync(keyFile, 'utf8')) as Record<string, unknown>;
  const port = await closedPort();
  writeFileSync(keyFile, JSON.stringify({ ...key, token_uri: `http://127.0.0.1:${port}/token` }), { mode: 0o600 });
  b.setConfig({ llm: { providers: [{ name: 'vertex', kind: 'vertex', model: 'google/gemini-2.5-flash', base_url: vertexBaseUrl(b) }] } });
  b.env = {};

  const result = await b.run('--json');
  expect(result.code, result.stdout + result.stderr).toBe(1);
  // The host that could not be reached is named (the token endpoint's, not the model's), never its URL.
  const fatal = (JSON.parse(result.stdout) as { fatal?: { message: string; hint?: string } }).fatal;
  expect(`${fatal?.message ?? ''} ${fatal?.hint ?? ''}`).toContain(`127.0.0.1:${port}`);
  expect(`${fatal?.message ?? ''} ${fatal?.hint ?? ''}`).toMatch(/token endpoint/);
  expect(result.stdout + result.stderr).not.toContain(`127.0.0.1:${port}/token`);
  // An outage is nobody's row: every row keeps what it shows.
  expect(b.values().slice(1)).toEqual(rows);
}, 120_000);
