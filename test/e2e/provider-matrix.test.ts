/**
 * Issue 20, items 1, 2 and 5: a real 40-row run through every provider profile of the
 * emulator (each behaves as that provider documents: fields refused or ignored, its error
 * bodies, its rate headers or none, its own 429). Every verdict right, exit 0, the request
 * fields that provider reads, and its way of saying "wait" waited out as told. The README's
 * provider table (item 6) is backed by these rows.
 */
import Database from 'better-sqlite3';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { col, startBed, type Bed } from '../support/bed.js';
import { expectedCells } from '../support/inspect.js';
import type { ProfileName, RecordedRequest } from '../support/openai-emulator/index.js';
import { sampleRows } from '../support/sample-data.js';
import { startVertexAuthority, vertexBaseUrl, type VertexAuthority } from '../support/vertex-auth.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

interface Summary {
  status: string;
  warnings: string[];
  fatal?: { message: string; hint?: string };
}

/** What each provider's requests must carry, and how it says "wait". */
interface Expected {
  /** prompt_cache_key: always sent, never sent, or sent until refused (then learned and dropped). */
  cacheKey: 'sent' | 'absent' | 'learned';
  /** The field that caps the answer (the endpoint ignores the other). */
  cap: 'max_tokens' | 'max_completion_tokens';
  /** The wait its 429 states is honoured (false: it states none, e.g. Ollama's 503 busy: backoff). */
  statesWait: boolean;
}

const MATRIX: ReadonlyArray<[ProfileName, Expected]> = [
  ['gemini', { cacheKey: 'absent', cap: 'max_tokens', statesWait: true }],
  ['openai', { cacheKey: 'sent', cap: 'max_completion_tokens', statesWait: true }],
  ['azure', { cacheKey: 'learned', cap: 'max_completion_tokens', statesWait: true }],
  ['vertex', { cacheKey: 'absent', cap: 'max_tokens', statesWait: true }],
  ['ollama', { cacheKey: 'absent', cap: 'max_tokens', statesWait: false }],
  ['vllm', { cacheKey: 'absent', cap: 'max_completion_tokens', statesWait: false }],
  ['anthropic', { cacheKey: 'absent', cap: 'max_completion_tokens', statesWait: true }],
  ['openrouter', { cacheKey: 'sent', cap: 'max_tokens', statesWait: true }],
  ['groq', { cacheKey: 'absent', cap: 'max_completion_tokens', statesWait: true }],
  ['generic', { cacheKey: 'sent', cap: 'max_completion_tokens', statesWait: true }],
];

const WAIT_MS = 1200;
const MODEL = 'gpt-5-mini';

let authority: VertexAuthority | undefined;
afterEach(async () => {
  await authority?.tokens.close();
  authority = undefined;
});

async function profileBed(profile: ProfileName, rows: string[][], kind: string | undefined = profile): Promise<Bed> {
  // Vertex takes the service account's access tokens (item 3): a token endpoint, and an endpoint that checks them.
  const vertex = kind === 'vertex' ? (authority = await startVertexAuthority()) : undefined;
  const b = await startBed({ rows, llm: { profile, models: [MODEL], ...(vertex ? { authorize: vertex.authorize } : {}) }, config: { llm: { max_workers: 5, max_retries: 3 } } });
  vertex?.adopt(b);
  b.setConfig({ llm: { providers: [{ name: profile, ...(kind ? { kind } : {}), model: MODEL, base_url: vertex ? vertexBaseUrl(b) : b.llm.url, api_key_env: 'TEST_OPENAI_KEY' }] } });
  return b;
}

const chats = (b: Bed) => b.llm.requests.filter((r) => r.path === '/v1/chat/completions');
const body = (r: RecordedRequest) => r.body as Record<string, unknown>;
/** The row a request asks about: its comment (each sample row's is its own). */
const idOf = (r: RecordedRequest) => r.row?.comment;

function expectEveryVerdict(b: Bed, rows: string[][]): void {
  const values = b.values();
  rows.forEach((row, i) => {
    const cells = values[i + 1] ?? [];
    expect({ verdict: cells[col(values, 'Validation')], suggestion: cells[col(values, 'Suggested rewrite')] }, row[0]).toEqual(expectedCells(row));
  });
}

describe('a 40-row run through each provider profile', () => {
  it.each(MATRIX)('%s: every verdict right, exit 0, the fields it reads sent, its wait honoured', async (profile, expected) => {
    const rows = sampleRows(40);
    bed = await profileBed(profile, rows);
    bed.llm.injectFault({ kind: 'rate_limit', retryAfterMs: WAIT_MS });
    const result = await bed.run('--json');
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as Summary;
    expect(summary.status).toBe('completed');
    expectEveryVerdict(bed, rows);

    const answered = chats(bed).filter((r) => r.status === 200);
    expect(answered.length).toBeGreaterThanOrEqual(40);
    for (const request of answered) {
      const sent = body(request);
      expect(sent['model']).toBe(MODEL);
      // The cap the endpoint reads, and never the one it ignores (an answer would not be capped).
      expect(typeof sent[expected.cap], profile).toBe('number');
      expect(sent[expected.cap === 'max_tokens' ? 'max_completion_tokens' : 'max_tokens']).toBeUndefined();
      // Structured outputs: a strict json_schema (Anthropic refuses anything else).
      expect(sent['response_format']).toMatchObject({ type: 'json_schema', json_schema: { strict: true } });
      if (expected.cacheKey === 'sent') expect(typeof sent['prompt_cache_key']).toBe('string');
      else expect(sent['prompt_cache_key']).toBeUndefined();
    }
    const learned = summary.warnings.filter((w) => w.includes('"prompt_cache_key"'));
    if (expected.cacheKey === 'learned') {
      // Refused by name at first, then left out; the summary says so once.
      expect(chats(bed).some((r) => r.status === 400 && typeof body(r)['prompt_cache_key'] === 'string')).toBe(true);
      expect(learned).toHaveLength(1);
      expect(learned[0]).toMatch(/does not accept the request field "prompt_cache_key".*Unrecognized request argument supplied: prompt_cache_key/);
    } else {
      expect(chats(bed).filter((r) => r.status === 400)).toEqual([]);
      expect(learned).toEqual([]);
    }

    // Its "wait" (a 429 in its own shape, or Ollama's 503 busy) is waited out, then the row is asked again.
    const told = chats(bed).find((r) => r.fault === 'rate_limit');
    expect(told, 'the injected wait').toBeDefined();
    const again = chats(bed).find((r) => r.startedAt >= (told?.startedAt ?? 0) && r !== told && idOf(r) === idOf(told as RecordedRequest) && r.status === 200);
    expect(again, 'the same row asked again').toBeDefined();
    expect(idOf(told as RecordedRequest)).toEqual(expect.stringContaining('(ref PRJ-'));
    if (expected.statesWait) expect((again?.startedAt ?? 0) - (told?.endedAt ?? 0)).toBeGreaterThanOrEqual(WAIT_MS - 100);
  });

  it('groq: its per-day request limit is not taken for a per-minute one; the per-minute token limit is learned', async () => {
    const rows = sampleRows(12);
    bed = await profileBed('groq', rows);
    const result = await bed.run('--json');
    expect(result.code, result.stderr).toBe(0);
    const db = new Database(path.join(bed.dir, 'cache.sqlite'), { readonly: true });
    try {
      const learned = db.prepare('SELECT rpm, tpm FROM provider_limits').all() as Array<{ rpm: number | null; tpm: number | null }>;
      expect(learned.length).toBeGreaterThan(0);
      for (const row of learned) expect(row.rpm).not.toBe(14400);
      expect(learned.some((row) => row.tpm !== null)).toBe(true);
    } finally {
      db.close();
    }
  });
});

describe("Azure's classic deployment URL", () => {
  it('sends the api-version of base_url with every request and the key in api-key, never as a bearer token', async () => {
    const rows = sampleRows(10);
    bed = await profileBed('azure', rows);
    const origin = new URL(bed.llm.url).origin;
    bed.setConfig({ llm: { providers: [{ name: 'azure', kind: 'azure', model: MODEL, base_url: `${origin}/openai/deployments/${MODEL}?api-version=2024-10-21`, api_key_env: 'TEST_OPENAI_KEY' }] } });
    const result = await bed.run('--json');
    expect(result.code, result.stderr).toBe(0);
    expectEveryVerdict(bed, rows);
    const sent = chats(bed);
    expect(sent.length).toBeGreaterThanOrEqual(10);
    for (const request of sent) {
      expect(request.query).toEqual({ 'api-version': '2024-10-21' });
      expect(request.headers['api-key']).toBeDefined();
      expect(request.headers.authorization).toBeUndefined();
    }
  });
});

describe('learn, do not fail', () => {
  it('a Gemini-like front configured as generic: prompt_cache_key is refused once, dropped, remembered; the next run never sends it', async () => {
    const rows = sampleRows(20);
    bed = await profileBed('gemini', rows, 'generic');
    const first = await bed.run('--json');
    expect(first.code, first.stderr).toBe(0);
    expectEveryVerdict(bed, rows);
    const warnings = (JSON.parse(first.stdout) as Summary).warnings.filter((w) => w.includes('prompt_cache_key'));
    expect(warnings).toHaveLength(1);
    // Google's own words reach the user, not "400 status code (no body)".
    expect(warnings[0]).toContain('Unknown name "prompt_cache_key": Cannot find field.');
    expect(chats(bed).filter((r) => r.status === 200).every((r) => body(r)['prompt_cache_key'] === undefined)).toBe(true);

    bed.llm.reset();
    const second = await bed.run('--json', '--force');
    expect(second.code, second.stderr).toBe(0);
    expect(chats(bed).length).toBeGreaterThan(0);
    expect(chats(bed).every((r) => r.status === 200 && body(r)['prompt_cache_key'] === undefined)).toBe(true);
    expect((JSON.parse(second.stdout) as Summary).warnings.filter((w) => w.includes('prompt_cache_key'))).toEqual([]);
  });

  it('a field the bot cannot do without, refused by name, stops the run (exit 1) naming the field, and writes no row', async () => {
    const rows = sampleRows(40);
    bed = await profileBed('groq', rows);
    // A front that reads no answer cap at all: max_completion_tokens is dropped (learned), then max_tokens is refused too.
    for (const field of ['max_completion_tokens', 'max_tokens']) {
      bed.llm.injectFault(
        { kind: 'status', status: 400, body: { error: { message: `property '${field}' is unsupported`, type: 'invalid_request_error' } } },
        { times: Infinity, match: (_row, req) => field in req },
      );
    }
    const result = await bed.run('--json');
    expect(result.code, result.stderr).toBe(1);
    const summary = JSON.parse(result.stdout) as Summary;
    expect(summary.fatal?.message).toMatch(/does not accept the request field "max_tokens" \(400: property 'max_tokens' is unsupported\)/);
    expect(summary.fatal?.hint).toMatch(/Groq refuses "max_tokens"/);
    expect(bed.values().slice(1)).toEqual(rows);
    expect(chats(bed).length).toBeLessThanOrEqual(10);
  });

  it.each([
    ['gemini', /404: models\/gemini-2\.5-flsh is not found/],
    ['openrouter', /400: gemini-2\.5-flsh is not a valid model ID/],
    ['azure', /404: The API deployment for this resource does not exist/],
  ] as const)('%s: a wrong model name stops the run early (exit 1), names the cause in the provider’s words and writes nothing', async (profile, cause) => {
    const rows = sampleRows(40);
    bed = await profileBed(profile, rows);
    bed.setConfig({ llm: { providers: [{ name: profile, kind: profile, model: 'gemini-2.5-flsh', base_url: bed.llm.url, api_key_env: 'TEST_OPENAI_KEY' }] } });
    const result = await bed.run('--json');
    expect(result.code, result.stderr).toBe(1);
    const summary = JSON.parse(result.stdout) as Summary;
    expect(summary.fatal?.message).toMatch(cause);
    expect(summary.fatal?.hint).toContain('gemini-2.5-flsh');
    // No row gets a verdict or an ERROR: every data row is as it was (the output headers are set up before the first request).
    expect(bed.values().slice(1)).toEqual(rows);
    // Stopped early: a handful of requests (those already in flight), not one per row.
    expect(chats(bed).length).toBeLessThanOrEqual(5);
  });
});
