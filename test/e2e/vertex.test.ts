/**
 * Issue 20, item 3: Vertex AI with the service account the bot already has for Sheets. One
 * key file for the sheet and the model: no API key in the environment; google-auth-library
 * exchanges a signed assertion for an OAuth access token (cloud-platform scope) at the key
 * file's token_uri, and the token goes as the bearer to Vertex's OpenAI-compatible endpoint,
 * which refuses (401) any token that its token endpoint did not issue or that has expired.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { col, startBed, type Bed } from '../support/bed.js';
import type { GoogleTokenEmulator } from '../support/google-token-emulator.js';
import { expectedCells } from '../support/inspect.js';
import type { RecordedRequest } from '../support/openai-emulator/index.js';
import { sampleRows } from '../support/sample-data.js';
import { BED_ACCOUNT as EMAIL, CLOUD_PLATFORM as SCOPE, startVertexAuthority, vertexBaseUrl } from '../support/vertex-auth.js';

const MODEL = 'google/gemini-2.5-flash';

let bed: Bed | undefined;
let tokens: GoogleTokenEmulator | undefined;
afterEach(async () => {
  await bed?.close();
  await tokens?.close();
  bed = undefined;
  tokens = undefined;
});

interface Summary {
  status: string;
  fatal?: { message: string; hint?: string };
}

async function vertexBed(rows: string[][], options: { account?: boolean; latencyMs?: number; workers?: number } = {}): Promise<{ bed: Bed; tokens: GoogleTokenEmulator }> {
  const authority = await startVertexAuthority();
  tokens = authority.tokens;
  const b = await startBed({
    rows,
    llm: { profile: 'vertex', models: [MODEL], latencyMs: options.latencyMs ?? 0, authorize: authority.authorize },
    config: { llm: { max_workers: options.workers ?? 5, max_retries: 3 } },
  });
  bed = b;
  // The Sheets key file, with the token endpoint a real key file names (here the emulator's).
  authority.adopt(b, { knownAccount: options.account !== false });
  // No api_key_env: the providers entry names no key at all, and the environment holds none.
  b.setConfig({ llm: { providers: [{ name: 'vertex', kind: 'vertex', model: MODEL, base_url: vertexBaseUrl(b) }] } });
  b.env = {};
  return { bed: b, tokens: authority.tokens };
}

const chats = (b: Bed) => b.llm.requests.filter((r) => r.path === '/v1/chat/completions');
const bearerOf = (r: RecordedRequest) => /^Bearer (.+)$/.exec(String(r.headers.authorization))?.[1];

function expectEveryVerdict(b: Bed, rows: string[][]): void {
  const values = b.values();
  rows.forEach((row, i) => {
    const cells = values[i + 1] ?? [];
    expect({ verdict: cells[col(values, 'Validation')], suggestion: cells[col(values, 'Suggested rewrite')] }, row[0]).toEqual(expectedCells(row));
  });
}

describe('Vertex AI with the Sheets service account', () => {
  it('asks with an access token of the key file, no API key; a token is reused while valid and replaced before it expires mid-run', async () => {
    const rows = sampleRows(30);
    const { bed: b, tokens: authority } = await vertexBed(rows, { latencyMs: 120, workers: 2 });
    // An emulated short life: the run outlasts several tokens.
    authority.setLifetime(2);
    const started = Date.now();
    const result = await b.run('--json');
    expect(result.code, result.stderr).toBe(0);
    expect(Date.now() - started).toBeGreaterThan(2000);
    expectEveryVerdict(b, rows);

    const sent = chats(b);
    const issued = new Set(authority.issued.map((t) => t.token));
    // Every request carried a token the endpoint issued, for the cloud-platform scope, to this account.
    for (const request of sent) expect(issued.has(bearerOf(request) ?? ''), 'a token the token endpoint issued').toBe(true);
    expect(authority.issued.every((t) => t.email === EMAIL && t.scopes.includes(SCOPE))).toBe(true);
    // Replaced before it expired: no request was refused, and more than one token was used.
    expect(sent.filter((r) => r.status === 401)).toEqual([]);
    expect(authority.issued.length).toBeGreaterThanOrEqual(2);
    // Reused while valid: far fewer tokens than requests, and each sent only while still valid.
    expect(authority.issued.length).toBeLessThan(sent.length / 3);
    for (const request of sent) {
      const token = authority.issued.find((t) => t.token === bearerOf(request));
      expect(request.startedAt).toBeLessThan(token?.expiresAt ?? 0);
    }
  });

  it('a token refused mid-run (revoked) is replaced and the request sent again: every verdict right, exit 0', async () => {
    const rows = sampleRows(24);
    const { bed: b, tokens: authority } = await vertexBed(rows, { latencyMs: 40, workers: 2 });
    const revoking = b.llm.waitForCalls(8, 20_000).then(() => authority.revokeAll());
    const result = await b.run('--json');
    await revoking;
    expect(result.code, result.stderr).toBe(0);
    expectEveryVerdict(b, rows);
    const refused = chats(b).filter((r) => r.status === 401);
    expect(refused.length).toBeGreaterThan(0);
    expect(authority.issued.length).toBeGreaterThanOrEqual(2);
    // Refused with the old token only; answered with a new one after (the endpoint records no row of a refused request).
    const revoked = new Set(refused.map(bearerOf));
    const later = chats(b).filter((r) => r.status === 200 && r.startedAt >= Math.min(...refused.map((r) => r.endedAt ?? 0)));
    expect(later.length).toBeGreaterThan(0);
    for (const request of later) expect(revoked.has(bearerOf(request))).toBe(false);
    // No row paid twice, none lost: one answered request per row.
    expect(new Set(chats(b).filter((r) => r.status === 200).map((r) => r.row?.comment)).size).toBe(rows.length);
  });

  it('a service account the token endpoint refuses stops the run (exit 1) in Google’s words, and writes nothing', async () => {
    const rows = sampleRows(20);
    const { bed: b, tokens: authority } = await vertexBed(rows, { account: false });
    const result = await b.run('--json');
    expect(result.code, result.stderr).toBe(1);
    const summary = JSON.parse(result.stdout) as Summary;
    expect(summary.fatal?.message).toMatch(/token endpoint refused an access token to the service account bot@status-validator-test\.iam\.gserviceaccount\.com \(400: invalid_grant: Invalid grant: account not found\)/);
    expect(summary.fatal?.hint).toMatch(/service-account key/);
    expect(`${result.stdout}${result.stderr}`).not.toContain('PRIVATE KEY');
    expect(b.values().slice(1)).toEqual(rows);
    expect(chats(b)).toEqual([]);
    expect(authority.refused).toBeGreaterThan(0);
  });

  it('the endpoint demands a token: a request without one, or with an API key, is refused 401 UNAUTHENTICATED', async () => {
    const { bed: b, tokens: authority } = await vertexBed(sampleRows(1));
    const url = `${new URL(b.llm.url).origin}/v1/projects/p/locations/us-central1/endpoints/openapi/chat/completions`;
    const body = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] });
    for (const headers of [{}, { authorization: 'Bearer sk-test-e2e-0123456789abcdef' }]) {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      expect(response.status).toBe(401);
      expect(await response.text()).toContain('UNAUTHENTICATED');
    }
    expect(authority.issued).toEqual([]);
  });
});

describe('Vertex AI config', () => {
  it('an api_key_env on a Vertex provider is not read, and a warning says so', async () => {
    const { bed: b } = await vertexBed(sampleRows(2));
    b.setConfig({ llm: { providers: [{ name: 'vertex', kind: 'vertex', model: MODEL, base_url: vertexBaseUrl(b), api_key_env: 'VERTEX_ACCESS_TOKEN' }] } });
    const result = await b.run();
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/api_key_env \(VERTEX_ACCESS_TOKEN\) is not read: provider "vertex" is Vertex AI/);
  });
});

describe('check-config --online with Vertex AI', () => {
  const check = (b: Bed) => b.cli(['check-config', '--config', b.configPath, '--online']);

  it('obtains a token and asks the model one tiny question: OK, exit 0, one request of at most 16 tokens', async () => {
    const { bed: b, tokens: authority } = await vertexBed(sampleRows(3));
    const result = await check(b);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain(`an access token was obtained for the service account ${EMAIL}, and model "${MODEL}" answered`);
    expect(authority.issued).toHaveLength(1);
    const sent = chats(b);
    expect(sent).toHaveLength(1);
    expect((sent[0]?.body as { max_tokens?: number }).max_tokens).toBeLessThanOrEqual(16);
  });

  it('a key the token endpoint refuses is a problem naming the key file and Google’s words', async () => {
    const { bed: b } = await vertexBed(sampleRows(3), { account: false });
    const result = await check(b);
    expect(result.code).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(/no access token for the service account .*invalid_grant: Invalid grant: account not found/);
    expect(result.stdout + result.stderr).toContain('sheets.credentials_file');
    expect(chats(b)).toEqual([]);
  });

  it('a model Vertex does not have is a problem naming llm.providers[0].model', async () => {
    const { bed: b } = await vertexBed(sampleRows(3));
    b.setConfig({ llm: { providers: [{ name: 'vertex', kind: 'vertex', model: 'google/gemini-2.5-flsh', base_url: vertexBaseUrl(b) }] } });
    const result = await check(b);
    expect(result.code).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(/google\/gemini-2\.5-flsh/);
    expect(result.stdout + result.stderr).toContain('llm.providers[0].model');
  });
});
