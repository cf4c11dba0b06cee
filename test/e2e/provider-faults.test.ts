/**
 * Issue 4, item 5: every way an LLM provider fails, each alone and mixed. Every row ends
 * VALID/INVALID or, after its retries, ERROR with the reason in its Issues cell; ERROR rows
 * are asked again by the next run; an ERROR is never cached as a verdict.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { col, startBed, type Bed } from '../support/bed.js';
import { cachedVerdicts, commentOf, echoVerdict, expectedCells } from '../support/inspect.js';
import type { ChatRequest, Fault, FaultMatcher, RecordedRequest } from '../support/openai-emulator/index.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

const cacheOf = (b: Bed) => String((b.config.cache as { path: string }).path);
const about =
  (ref: string): FaultMatcher =>
  (_row, req) =>
    commentOf(req).includes(`(ref ${ref})`);
const commentOfRequest = (r: RecordedRequest): string => {
  const body = r.body as ChatRequest | undefined;
  return Array.isArray(body?.messages) ? commentOf(body) : '';
};
const requestsAbout = (b: Bed, ref: string): RecordedRequest[] => b.llm.requests.filter((r) => commentOfRequest(r).includes(`(ref ${ref})`));

/** Starts a bed whose model reads the row from the whole conversation (repair prompts included). */
async function faultBed(rows: string[][], llm: Record<string, unknown> = {}): Promise<Bed> {
  const b = await startBed({
    rows,
    config: { llm: { max_workers: 4, max_retries: 1, request_timeout_seconds: 1, ...llm }, sheets: { read_quota_per_minute: 6000, write_quota_per_minute: 6000 } },
  });
  b.llm.setRespond(echoVerdict);
  return b;
}

/** Every row but those listed shows its own correct verdict; the listed ones show ERROR and a reason matching theirs. */
function expectRows(b: Bed, rows: string[][], errors: Record<string, RegExp>): void {
  const values = b.values();
  const [verdictCol, issuesCol, suggestionCol] = ['Validation', 'Issues', 'Suggested rewrite'].map((h) => col(values, h));
  rows.forEach((row, i) => {
    const cells = values[i + 1] ?? [];
    const reason = errors[row[0] ?? ''];
    if (reason) {
      expect(cells[verdictCol ?? -1], `${row[0]}`).toBe('ERROR');
      expect(cells[issuesCol ?? -1], `${row[0]}`).toMatch(reason);
      expect(cells[suggestionCol ?? -1] ?? '', `${row[0]}`).toBe('');
    } else {
      const expected = expectedCells(row);
      expect({ verdict: cells[verdictCol ?? -1], suggestion: cells[suggestionCol ?? -1] }, `${row[0]}`).toEqual(expected);
    }
  });
}

/** What is cached: one verdict per row that got one, none for the ERROR rows. */
function expectCachedExactly(b: Bed, rows: string[][], errorIds: string[]): void {
  const cached = cachedVerdicts(cacheOf(b));
  expect(cached.map((v) => v.verdict).every((v) => v === 'VALID' || v === 'INVALID')).toBe(true);
  const cachedComments = cached.map((v) => v.suggestion.replace(/^Rewrite: /, '')).sort();
  expect(cachedComments).toEqual(rows.filter((r) => !errorIds.includes(r[0] ?? '')).map((r) => r[2]).sort());
}

const FAULTS: Array<[string, Fault, RegExp, number?]> = [
  ['429 with retry-after', { kind: 'rate_limit', retryAfterSeconds: 1 }, /rate-limited the request \(429/, 950],
  ['429 without retry-after', { kind: 'rate_limit' }, /rate-limited the request \(429/],
  ['500', { kind: 'status', status: 500 }, /failed \(500/],
  ['502', { kind: 'status', status: 502 }, /failed \(502/],
  ['503', { kind: 'status', status: 503 }, /failed \(503/],
  ['a connection reset', { kind: 'reset' }, /could not reach provider "emulator"/],
  ['a hang past the request timeout', { kind: 'hang' }, /did not answer within 1 s/],
  ['malformed JSON', { kind: 'malformed' }, /not valid JSON/],
  ['an answer cut at max_completion_tokens (finish_reason length)', { kind: 'truncated' }, /cut off at max_completion_tokens/],
  ['a refusal', { kind: 'refusal' }, /refused to answer/],
  ['valid JSON with wrong types', { kind: 'wrong_types' }, /did not match the schema/],
];

describe('each provider fault alone', () => {
  it.each(FAULTS)(
    'after %s, retries once and answers; when it persists, writes ERROR with the reason, caches nothing and asks again next run',
    async (_name, fault, reason, waitsMs) => {
      const rows = sampleRows(6);
      bed = await faultBed(rows);
      const b = bed;
      b.llm.injectFault(fault, { times: 1, match: about('PRJ-0001') });
      b.llm.injectFault(fault, { times: Infinity, match: about('PRJ-0002') });

      const first = await b.run();
      expect(first.code, first.stderr).toBe(3);
      expectRows(b, rows, { 'PRJ-0002': reason });
      expect(first.stdout).toContain('retried on the next run');
      // The transient one: one fault, one retry. The persistent one: asked 1 + max_retries times.
      const transient = requestsAbout(b, 'PRJ-0001');
      expect(transient.map((r) => r.fault ?? 'ok')).toEqual([expect.stringMatching(new RegExp(fault.kind)), 'ok']);
      if (waitsMs !== undefined) expect((transient[1]?.startedAt ?? 0) - (transient[0]?.endedAt ?? 0)).toBeGreaterThanOrEqual(waitsMs);
      expect(requestsAbout(b, 'PRJ-0002')).toHaveLength(2);
      expectCachedExactly(b, rows, ['PRJ-0002']);

      b.llm.clearFaults();
      const calls = b.llm.callCount();
      const second = await b.run();
      expect(second.code).toBe(0);
      expect(b.llm.callCount() - calls).toBe(1);
      expectRows(b, rows, {});
      expectCachedExactly(b, rows, []);
    },
  );
});

describe('no quota left (429 insufficient_quota)', () => {
  it('stops asking at once, says the account has no quota, keeps the answers received, and the next run asks only the rest', async () => {
    const rows = sampleRows(12);
    bed = await faultBed(rows, { max_workers: 2 });
    const b = bed;
    b.llm.setLatency(20);
    const answered = () => b.llm.requests.filter((r) => r.status === 200).length;
    b.llm.injectFault({ kind: 'insufficient_quota' }, { times: Infinity, match: () => answered() >= 4 });

    const first = await b.run('--json');
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(/provider "emulator".*no quota left \(429 insufficient_quota/);
    expect(first.stderr).toMatch(/Fix: .*credit/);
    const quotaErrors = b.llm.requests.filter((r) => r.fault === 'insufficient_quota');
    // Only the calls already started when the first quota error came back were sent: no retry, no new row.
    expect(quotaErrors.length).toBeGreaterThanOrEqual(1);
    expect(quotaErrors.length).toBeLessThanOrEqual(2);
    const firstQuotaAt = Math.min(...quotaErrors.map((r) => r.endedAt ?? 0));
    expect(b.llm.requests.filter((r) => r.startedAt > firstQuotaAt + 20)).toEqual([]);
    // The answers received before are written and cached; no other row shows a verdict.
    const got = b.llm.requests.filter((r) => r.status === 200).map((r) => commentOfRequest(r));
    const values = b.values();
    const shown = values.slice(1).filter((r) => ['VALID', 'INVALID'].includes(r[col(values, 'Validation')] ?? ''));
    expect(shown.map((r) => r[2]).sort()).toEqual([...got].sort());
    expect(cachedVerdicts(cacheOf(b))).toHaveLength(got.length);
    const summary = JSON.parse(first.stdout) as { status: string; fatal: { message: string } };
    expect(summary.status).toBe('failed');
    expect(summary.fatal.message).toContain('no quota left');

    b.llm.clearFaults();
    const calls = b.llm.callCount();
    const second = await b.run();
    expect(second.code).toBe(0);
    expect(b.llm.callCount() - calls).toBe(12 - got.length);
    expectRows(b, rows, {});
  });

  it('moves to the fallback provider for every row once the first has no quota, without asking the first again', async () => {
    const rows = sampleRows(8);
    bed = await faultBed(rows, { max_workers: 2 });
    const b = bed;
    b.setConfig({
      llm: {
        providers: [
          { name: 'primary', model: 'model-broke', base_url: b.llm.url, api_key_env: 'TEST_OPENAI_KEY' },
          { name: 'backup', model: 'model-funded', base_url: b.llm.url, api_key_env: 'TEST_OPENAI_KEY' },
        ],
      },
    });
    b.llm.injectFault({ kind: 'insufficient_quota' }, { times: Infinity, match: (_row, req) => req.model === 'model-broke' });
    const result = await b.run();
    expect(result.code, result.stderr).toBe(0);
    expect(b.llm.requests.filter((r) => r.model === 'model-broke').length).toBeLessThanOrEqual(2);
    const values = b.values();
    expect(values.slice(1).map((r) => r[col(values, 'Model')])).toEqual(Array(8).fill('model-funded'));
    expectRows(b, rows, {});
  });
});

describe('provider faults mixed', () => {
  it('answers every row through a storm of different faults, and only the rows whose fault never stops end in ERROR', async () => {
    const rows = sampleRows(24);
    bed = await faultBed(rows, { max_workers: 6, max_retries: 2 });
    const b = bed;
    // Two rows fail for good, with different reasons.
    b.llm.injectFault({ kind: 'status', status: 503 }, { times: Infinity, match: about('PRJ-0005') });
    b.llm.injectFault({ kind: 'refusal' }, { times: Infinity, match: about('PRJ-0017') });
    // Eleven rows each meet one transient fault (two for PRJ-0002: a 500 then a malformed answer).
    FAULTS.forEach(([, fault], i) => b.llm.injectFault(fault, { times: 1, match: about(`PRJ-${String(i + 1 + (i >= 4 ? 1 : 0)).padStart(4, '0')}`) }));
    b.llm.injectFault({ kind: 'malformed' }, { times: 1, match: about('PRJ-0002') });

    const first = await b.run('--json');
    expect(first.code, first.stderr).toBe(3);
    const errors = { 'PRJ-0005': /failed \(503.*gave up after 2 retries/, 'PRJ-0017': /refused to answer/ };
    expectRows(b, rows, errors);
    // Every transient fault was met by its row (and then that row was answered).
    FAULTS.forEach(([, fault], i) => {
      const ref = `PRJ-${String(i + 1 + (i >= 4 ? 1 : 0)).padStart(4, '0')}`;
      expect(requestsAbout(b, ref).some((r) => r.fault === fault.kind), `${ref} met ${fault.kind}`).toBe(true);
    });
    expect(b.llm.peakInFlight).toBeLessThanOrEqual(6);
    const summary = JSON.parse(first.stdout) as { verdicts: { valid: number; invalid: number; error: number }; errors: Array<{ id: string; reason: string }> };
    expect(summary.verdicts.valid + summary.verdicts.invalid).toBe(22);
    expect(summary.errors.map((e) => e.id).sort()).toEqual(['PRJ-0005', 'PRJ-0017']);
    expectCachedExactly(b, rows, ['PRJ-0005', 'PRJ-0017']);

    b.llm.clearFaults();
    const calls = b.llm.callCount();
    const second = await b.run();
    expect(second.code).toBe(0);
    expect(b.llm.callCount() - calls).toBe(2);
    expectRows(b, rows, {});
  });
});
