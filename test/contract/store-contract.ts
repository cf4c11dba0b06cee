/**
 * What every Store keeps (src/cache/contract.ts), whichever engine holds it: one suite, run
 * against each implementation by a one-line test file (test/contract/<kind>.test.ts):
 *
 *   storeContract('postgres', () => openPostgresStoreForTest());
 *
 * `open` returns a new, empty store each call (a fresh file, a fresh database); the suite
 * closes every store it opened. Anything store-specific (a server, a directory) belongs in
 * the factory.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { BatchLine } from '../../src/cache/batch-jobs.js';
import { DUMP_TABLES, type DumpChunk, type Store } from '../../src/cache/contract.js';
import { FIELDS_MAX_AGE_MS } from '../../src/cache/fields.js';
import { LIMITS_MAX_AGE_MS } from '../../src/cache/limits.js';
import type { CachedVerdict, ReviewerVerdict } from '../../src/cache/store.js';
import { LockedError } from '../../src/errors.js';

export function verdictOf(key: string, overrides: Partial<CachedVerdict> = {}): CachedVerdict {
  return {
    key,
    verdict: 'INVALID',
    issues: ['No due date.', 'Статус не из списка.'],
    suggestion: 'Say what is next and by when.',
    model: 'gpt-5-mini',
    provider: 'primary',
    checkedAt: '2026-03-01T10:00:00.000Z',
    confidence: 0.75,
    promptTokens: 120,
    completionTokens: 30,
    cachedTokens: 64,
    ...overrides,
  };
}

const job = (id: string, createdAt: string) => ({
  id,
  provider: 'primary',
  model: 'gpt-5-mini',
  spreadsheetId: 'sheet-1',
  sheet: 'Status',
  target: 'Status',
  inputFileId: `file-${id}`,
  status: 'validating',
  requests: 2,
  createdAt,
});

const line = (customId: string, key: string, label = ''): BatchLine<{ row: string }> => ({ customId, label, key, inputs: { row: key } });

async function drain<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

export function storeContract(name: string, open: () => Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    const opened: Store[] = [];
    const fresh = async () => {
      const store = await open();
      opened.push(store);
      return store;
    };
    afterEach(async () => {
      for (const store of opened.splice(0)) if (store.isOpen) await store.close();
    });

    it('names its kind and location, and is open until closed', async () => {
      const store = await fresh();
      expect(store.kind).toBe(name);
      expect(store.location.length).toBeGreaterThan(0);
      expect(store.isOpen).toBe(true);
      await store.close();
      expect(store.isOpen).toBe(false);
    });

    it('keeps a verdict as put, replaces it on a second put, and counts and averages the answers', async () => {
      const store = await fresh();
      expect(await store.get('k1')).toBeUndefined();
      expect(await store.count()).toBe(0);
      expect(await store.averageTokens()).toBeUndefined();
      await store.put(verdictOf('k1'));
      expect(await store.get('k1')).toEqual(verdictOf('k1'));
      const replaced = verdictOf('k1', { verdict: 'VALID', issues: [], confidence: 1, promptTokens: 80, completionTokens: 10, checkedAt: '2026-03-02T00:00:00.000Z' });
      await store.put(replaced);
      expect(await store.get('k1')).toEqual(replaced);
      await store.put(verdictOf('k2', { promptTokens: 0, completionTokens: 0 }));
      expect(await store.count()).toBe(2);
      // Answers without tokens (cached elsewhere) do not price the baseline.
      expect(await store.averageTokens()).toEqual({ promptTokens: 80, completionTokens: 10 });
    });

    it('putUnlessNewer keeps a verdict computed at or after `since`, and replaces an older one', async () => {
      const store = await fresh();
      expect(await store.putUnlessNewer(verdictOf('k', { suggestion: 'batch' }), '2026-03-01T00:00:00.000Z')).toBe(true);
      expect((await store.get('k'))?.suggestion).toBe('batch');
      await store.put(verdictOf('k', { suggestion: 'fresh', checkedAt: '2026-03-05T00:00:00.000Z' }));
      expect(await store.putUnlessNewer(verdictOf('k', { suggestion: 'late batch' }), '2026-03-05T00:00:00.000Z')).toBe(false);
      expect((await store.get('k'))?.suggestion).toBe('fresh');
      expect(await store.putUnlessNewer(verdictOf('k', { suggestion: 'newer batch' }), '2026-03-06T00:00:00.000Z')).toBe(true);
      expect((await store.get('k'))?.suggestion).toBe('newer batch');
    });

    it('keeps text holding U+0000 and U+0001 exactly, through put, overrides and a dump restored elsewhere', async () => {
      const store = await fresh();
      const odd = verdictOf('k\u0000nul', { suggestion: 'a\u0000b\u0001c\u00010', issues: ['x\u0000'], model: 'm\u0001' });
      await store.put(odd);
      expect(await store.get('k\u0000nul')).toEqual(odd);
      expect((await store.lookup(['k\u0000nul'])).verdicts.get('k\u0000nul')).toEqual(odd);
      await store.putOverrides([{ key: 'o', verdict: 'VALID', note: '\u0001\u0000', recordedAt: '2026-03-01T00:00:00.000Z' }]);
      const copy = await fresh();
      for await (const chunk of store.dump()) await copy.restore(chunk);
      expect(await copy.get('k\u0000nul')).toEqual(odd);
      expect((await copy.getOverride('o'))?.note).toBe('\u0001\u0000');
    });

    it('putUnlessNewer compares times as times, and takes an unreadable stored time for an older one', async () => {
      const store = await fresh();
      // 01:00 at +01:00 is 00:00 UTC: older than `since` (00:30 UTC), though its text sorts after it.
      await store.restore({ table: 'verdicts', rows: [dumpRow(verdictOf('offset', { suggestion: 'old', checkedAt: '2026-03-05T01:00:00+01:00' }))] });
      expect(await store.putUnlessNewer(verdictOf('offset', { suggestion: 'batch' }), '2026-03-05T00:30:00.000Z')).toBe(true);
      expect((await store.get('offset'))?.suggestion).toBe('batch');
      // A hand-edited time: not newer than anything, so the batch answer replaces it (and nothing fails).
      await store.restore({ table: 'verdicts', rows: [dumpRow(verdictOf('garbled', { suggestion: 'old', checkedAt: 'last tuesday' }))] });
      expect(await store.putUnlessNewer(verdictOf('garbled', { suggestion: 'batch' }), '2026-03-05T00:30:00.000Z')).toBe(true);
      expect((await store.get('garbled'))?.suggestion).toBe('batch');
      // A row added concurrently is never overwritten: it is at or after `since` here.
      await store.put(verdictOf('live', { suggestion: 'live', checkedAt: '2026-03-05T00:30:00.000Z' }));
      expect(await store.putUnlessNewer(verdictOf('live', { suggestion: 'batch' }), '2026-03-05T00:30:00.000Z')).toBe(false);
      expect((await store.get('live'))?.suggestion).toBe('live');
    });

    it('lookup reads verdicts, pending and answered batch questions of the keys asked, and only those', async () => {
      const store = await fresh();
      await store.put(verdictOf('a'));
      await store.put(verdictOf('z'));
      const jobs = store.batchJobs<{ row: string }>();
      await jobs.record(job('old', '2026-03-01T00:00:00.000Z'), [line('c1', 'b'), line('c2', 'c')]);
      await jobs.markApplied('old', { saved: 2 });
      await jobs.record(job('open', '2026-03-02T00:00:00.000Z'), [line('c1', 'c'), line('c2', 'd', 'r1'), line('c2', 'e', 'r2')]);
      await jobs.record(job('failed', '2026-03-03T00:00:00.000Z'), [line('c1', 'f')]);
      await jobs.update('failed', { status: 'failed' });
      const keys = ['a', 'b', 'c', 'd', 'f', 'missing', 'a'];
      const { verdicts, pending, answeredBatches } = await store.lookup(keys);
      expect([...verdicts.keys()].sort()).toEqual(['a']);
      expect(verdicts.get('a')).toEqual(verdictOf('a'));
      expect(Object.fromEntries(pending)).toEqual({
        c: { batchId: 'open', submittedAt: '2026-03-02T00:00:00.000Z' },
        d: { batchId: 'open', submittedAt: '2026-03-02T00:00:00.000Z' },
      });
      expect(Object.fromEntries(answeredBatches)).toEqual({ b: '2026-03-01T00:00:00.000Z', c: '2026-03-01T00:00:00.000Z' });
      expect((await store.lookup([])).verdicts.size).toBe(0);
    });

    it('lookup of thousands of keys finds every one', async () => {
      const store = await fresh();
      const keys = Array.from({ length: 2_500 }, (_, i) => `key-${i}`);
      await store.restore({ table: 'verdicts', rows: keys.map((key) => dumpRow(verdictOf(key))) });
      const { verdicts } = await store.lookup(keys);
      expect(verdicts.size).toBe(2_500);
    });

    it('keeps reviewers\' verdicts; an unchanged one keeps the time it was first recorded', async () => {
      const store = await fresh();
      const first: ReviewerVerdict = { key: 'k', verdict: 'VALID', note: 'fine', recordedAt: '2026-03-01T00:00:00.000Z' };
      await store.putOverrides([first, { key: 'j', verdict: 'INVALID', note: 'no owner', recordedAt: '2026-03-01T00:00:00.000Z' }]);
      await store.putOverrides([{ ...first, recordedAt: '2026-04-01T00:00:00.000Z' }]);
      expect(await store.getOverride('k')).toEqual(first);
      await store.putOverrides([{ ...first, note: 'fine after all', recordedAt: '2026-04-02T00:00:00.000Z' }]);
      expect(await store.getOverride('k')).toEqual({ ...first, note: 'fine after all', recordedAt: '2026-04-02T00:00:00.000Z' });
      expect(await store.getOverride('nope')).toBeUndefined();
      const all = await store.allOverrides();
      expect([...all.keys()].sort()).toEqual(['j', 'k']);
      await store.putOverrides([]);
    });

    it('records runs: start, request, end with the summary\'s target and group, newest first with a group together', async () => {
      const store = await fresh();
      const run = (id: string, startedAt: string, target: string, group?: string) => ({ id, startedAt, trigger: 'cli', spreadsheetId: 'sheet-1', sheet: target, target, group });
      await store.runs.start(run('solo-1', '2026-03-01T00:00:00.000Z', 'A'));
      await store.runs.start(run('g-b', '2026-03-02T00:00:01.000Z', 'B', 'g'));
      await store.runs.start(run('g-a', '2026-03-02T00:00:00.000Z', 'A', 'g'));
      await store.runs.start(run('solo-2', '2026-03-03T00:00:00.000Z', 'C'));
      await store.runs.request('solo-2', { by: 'ana@example.com', rows: ['r1'], force: false, estimatedUsd: 0.01 });
      await store.runs.end('solo-1', 'done', { target: 'A renamed', group: 'late', asked: 3 });
      const recent = await store.runs.recent(10);
      expect(recent.map((r) => r.id)).toEqual(['solo-2', 'g-a', 'g-b', 'solo-1']);
      const solo2 = recent[0];
      expect(solo2).toMatchObject({ status: 'running', endedAt: null, triggeredBy: 'ana@example.com', group: null, summary: null, target: 'C' });
      expect(solo2?.request).toEqual({ by: 'ana@example.com', rows: ['r1'], force: false, estimatedUsd: 0.01 });
      const solo1 = recent[3];
      expect(solo1).toMatchObject({ status: 'done', target: 'A renamed', group: 'late', summary: { target: 'A renamed', group: 'late', asked: 3 } });
      expect(typeof solo1?.endedAt).toBe('string');
      expect((await store.runs.recent(2)).map((r) => r.id)).toEqual(['solo-2', 'g-a']);
      expect((await store.runs.recent(10, ['A', 'C'])).map((r) => r.id)).toEqual(['solo-2', 'g-a']);
      expect(await store.runs.recent(10, [])).toEqual([]);
    });

    it('shows a damaged summary or request as null rather than failing the listing', async () => {
      const store = await fresh();
      await store.restore({
        table: 'runs',
        rows: [{ id: 'bad', started_at: '2026-03-01T00:00:00.000Z', ended_at: null, trigger: 'cli', spreadsheet_id: 's', sheet: 'T', status: 'done', summary: '{"cut', triggered_by: null, request: 'not json', target: null, run_group: null }],
      });
      const [run] = await store.runs.recent(5);
      expect(run).toMatchObject({ id: 'bad', summary: null, request: null, target: 'T' });
    });

    it('keeps batch jobs: record, update, list newest first (and open ones), lines by custom id, pending keys, applied', async () => {
      const store = await fresh();
      const jobs = store.batchJobs<{ row: string }>();
      await jobs.record(job('b1', '2026-03-01T00:00:00.000Z'), [line('c2', 'k3'), line('c1', 'k1', 'r2'), line('c1', 'k2', 'r1')]);
      await jobs.record({ ...job('b2', '2026-03-02T00:00:00.000Z'), sheet: 'Other' }, [line('c1', 'k4')]);
      expect(await jobs.get('b1')).toMatchObject({ id: 'b1', status: 'validating', outputFileId: null, errorFileId: null, appliedAt: null, target: 'Status', requests: 2, updatedAt: '2026-03-01T00:00:00.000Z' });
      expect(await jobs.get('nope')).toBeUndefined();
      await jobs.update('b1', { status: 'completed', outputFileId: 'out-1' });
      await jobs.update('b1', { status: 'completed' });
      const b1 = await jobs.get('b1');
      expect(b1).toMatchObject({ status: 'completed', outputFileId: 'out-1', errorFileId: null });
      expect(b1?.updatedAt).not.toBe('2026-03-01T00:00:00.000Z');
      expect((await jobs.list()).map((j) => j.id)).toEqual(['b2', 'b1']);
      expect((await jobs.list({ sheet: 'Status' })).map((j) => j.id)).toEqual(['b1']);
      expect((await jobs.list({ spreadsheetId: 'other' })).map((j) => j.id)).toEqual([]);
      const lines = await jobs.lines('b1');
      expect([...lines.keys()]).toEqual(['c1', 'c2']);
      expect(lines.get('c1')).toEqual([line('c1', 'k2', 'r1'), line('c1', 'k1', 'r2')]);
      expect([...(await jobs.pendingKeys())].sort()).toEqual(['k1', 'k2', 'k3', 'k4']);
      await jobs.markApplied('b1', { saved: 3 });
      expect((await jobs.get('b1'))?.appliedAt).toEqual(expect.any(String));
      expect((await jobs.list({ open: true })).map((j) => j.id)).toEqual(['b2']);
      expect([...(await jobs.pendingKeys())]).toEqual(['k4']);
      await jobs.update('b2', { status: 'expired' });
      expect((await jobs.pendingKeys()).size).toBe(0);
    });

    it('recalls learned limits by provider, model and key until they age or a 429 contradicts them', async () => {
      const store = await fresh();
      let now = Date.parse('2026-03-01T00:00:00.000Z');
      const memory = store.limitMemory(() => now);
      const of = { provider: 'https://api.example.com/v1', model: 'm', apiKey: 'sk-secret-key-1234' };
      expect(await memory.recall(of)).toBeUndefined();
      await memory.learn(of, { rpm: 500.7, tpm: 0.5 });
      expect(await memory.recall(of)).toEqual({ rpm: 500, tpm: undefined });
      expect(await memory.recall({ ...of, apiKey: 'sk-another-key-5678' })).toBeUndefined();
      now += LIMITS_MAX_AGE_MS + 1;
      expect(await memory.recall(of)).toBeUndefined();
      await memory.learn(of, { rpm: 60, tpm: 100_000 });
      expect(await memory.recall(of)).toEqual({ rpm: 60, tpm: 100_000 });
      await memory.learn(of, undefined);
      expect(await memory.recall(of)).toBeUndefined();
      await memory.learn(of, { tpm: 9_000 });
      expect(await store.limitMemory(() => now).recall(of)).toEqual({ rpm: undefined, tpm: 9_000 });
      // The key itself never reaches the store: only its hash.
      const dumped = JSON.stringify((await drain(store.dump())).filter((c) => c.table === 'provider_limits'));
      expect(dumped).not.toContain('sk-secret-key-1234');
      expect(dumped).toContain('9000');
    });

    it('recalls refused fields per endpoint until they age', async () => {
      const store = await fresh();
      let now = Date.parse('2026-03-01T00:00:00.000Z');
      const memory = store.fieldMemory(() => now);
      const of = { provider: 'https://gemini.example.com', model: 'gemini-x' };
      expect(await memory.recall(of)).toEqual([]);
      await memory.learn(of, 'prompt_cache_key', `Unknown name "prompt_cache_key" ${'x'.repeat(900)}`);
      await memory.learn(of, 'service_tier', 'Unknown name "service_tier"');
      expect((await memory.recall(of)).sort()).toEqual(['prompt_cache_key', 'service_tier']);
      expect(await memory.recall({ ...of, model: 'other' })).toEqual([]);
      now += FIELDS_MAX_AGE_MS + 1;
      expect(await memory.recall(of)).toEqual([]);
      await memory.learn(of, 'service_tier', 'again');
      expect(await memory.recall(of)).toEqual(['service_tier']);
      const fields = (await drain(store.dump())).filter((c) => c.table === 'provider_fields').flatMap((c) => c.rows);
      expect(Math.max(...fields.map((r) => String(r.message).length))).toBe(500);
    });

    it('keeps embeddings by key, counts and reads a partition\'s vectors', async () => {
      const store = await fresh();
      const vector = (seed: number, dims = 4) => Buffer.from(new Float32Array(Array.from({ length: dims }, (_, i) => seed + i / 10)).buffer);
      expect(await store.embeddings.previous('e1')).toBeUndefined();
      await store.embeddings.put('e1', 'VALID', 'emb-1', 'scope-a', vector(1));
      await store.embeddings.put('e2', 'VALID', 'emb-1', 'scope-a', vector(2));
      await store.embeddings.put('e3', 'INVALID', 'emb-1', 'scope-a', vector(3));
      await store.embeddings.put('e4', 'VALID', 'emb-1', 'scope-a', vector(4, 8));
      await store.embeddings.put('e2', 'VALID', 'emb-1', 'scope-a', vector(20));
      expect(await store.embeddings.previous('e4')).toEqual({ status: 'VALID', bytes: 32, model: 'emb-1', scope: 'scope-a' });
      const partition = { model: 'emb-1', scope: 'scope-a', status: 'VALID', bytes: 16 };
      expect(await store.embeddings.count(partition)).toBe(2);
      const read = await drain(store.embeddings.vectors(partition));
      expect(read.map((r) => r.key).sort()).toEqual(['e1', 'e2']);
      expect(Buffer.from(read.find((r) => r.key === 'e2')?.vector ?? []).equals(vector(20))).toBe(true);
      expect(await store.embeddings.count({ ...partition, scope: 'other' })).toBe(0);
    });

    it('reads a partition of more vectors than one chunk holds', async () => {
      const store = await fresh();
      const rows = Array.from({ length: 1_234 }, (_, i) => ({ key: `v${i}`, status: 'VALID', model: 'm', scope: '', vector: Buffer.alloc(8, i % 256) }));
      await store.restore({ table: 'embeddings', rows });
      const read = await drain(store.embeddings.vectors({ model: 'm', scope: '', status: 'VALID', bytes: 8 }));
      expect(new Set(read.map((r) => r.key)).size).toBe(1_234);
    });

    it('keeps a cascade calibration per scope: replaced by a newer one, another scope apart, a damaged record read as null', async () => {
      const store = await fresh();
      expect(await store.calibrations.get('scope-a')).toBeUndefined();
      const record = { threshold: 0.82, bound: 0.951, samples: [{ c: 0.9, agree: true }], note: 'Статус ✓' };
      await store.calibrations.put('scope-a', record, '2026-03-01T00:00:00.000Z');
      await store.calibrations.put('scope-b', { threshold: null }, '2026-03-01T00:00:00.000Z');
      expect(await store.calibrations.get('scope-a')).toEqual({ scope: 'scope-a', record, calibratedAt: '2026-03-01T00:00:00.000Z' });
      await store.calibrations.put('scope-a', { threshold: 0.9 }, '2026-03-02T00:00:00.000Z');
      expect(await store.calibrations.get('scope-a')).toEqual({ scope: 'scope-a', record: { threshold: 0.9 }, calibratedAt: '2026-03-02T00:00:00.000Z' });
      expect((await store.calibrations.get('scope-b'))?.record).toEqual({ threshold: null });
      // A hand-edited (damaged) record, restored from a dump: read as null, never a failure.
      await store.restore({ table: 'calibrations', rows: [{ scope: 'scope-c', record: '{not json', calibrated_at: '2026-03-01T00:00:00.000Z' }] });
      expect(await store.calibrations.get('scope-c')).toEqual({ scope: 'scope-c', record: null, calibratedAt: '2026-03-01T00:00:00.000Z' });
    });

    it('keeps the answer sizes per endpoint, model and prompt: replaced whole, others apart, a damaged text read as none', async () => {
      const store = await fresh();
      const of = { provider: 'https://api.openai.com/v1', model: 'gpt-5-mini', prompt: 'status-validator-0123/answer-v2/rows-1' };
      expect(await store.answerSizes.recall(of)).toEqual([]);
      await store.answerSizes.learn(of, [150, 162, 171]);
      await store.answerSizes.learn({ ...of, prompt: 'status-validator-0123/answer-v2/rows-5' }, [700]);
      await store.answerSizes.learn({ ...of, model: 'gpt-5-nano' }, [90]);
      expect(await store.answerSizes.recall(of)).toEqual([150, 162, 171]);
      await store.answerSizes.learn(of, [180, 900]);
      expect(await store.answerSizes.recall(of)).toEqual([180, 900]);
      expect(await store.answerSizes.recall({ ...of, prompt: 'status-validator-0123/answer-v2/rows-5' })).toEqual([700]);
      expect(await store.answerSizes.recall({ ...of, model: 'gpt-5-nano' })).toEqual([90]);
      expect(await store.answerSizes.recall({ ...of, provider: 'http://127.0.0.1:11434/v1' })).toEqual([]);
      // Only whole sizes ≥ 0 are kept: what a broken usage reports never reaches the store.
      await store.answerSizes.learn(of, [12, -1, 1.5, Number.NaN, Infinity, 40]);
      expect(await store.answerSizes.recall(of)).toEqual([12, 40]);
      // A hand-edited (damaged) text, restored from a dump: read as none, never a failure.
      await store.restore({ table: 'answer_sizes', rows: [{ provider: 'p', model: 'm', prompt: 'bad', sizes: '{not json', learned_at: 1 }] });
      await store.restore({ table: 'answer_sizes', rows: [{ provider: 'p', model: 'm', prompt: 'odd', sizes: '[1, "two", null, 3, {"x": 4}]', learned_at: 1 }] });
      expect(await store.answerSizes.recall({ provider: 'p', model: 'm', prompt: 'bad' })).toEqual([]);
      expect(await store.answerSizes.recall({ provider: 'p', model: 'm', prompt: 'odd' })).toEqual([1, 3]);
    });

    it('dump then restore into another store copies everything; restoring twice adds nothing', async () => {
      const source = await fresh();
      await source.put(verdictOf('v1'));
      await source.put(verdictOf('v2', { verdict: 'VALID', issues: [] }));
      await source.putOverrides([{ key: 'v1', verdict: 'VALID', note: 'ok', recordedAt: '2026-03-01T00:00:00.000Z' }]);
      await source.runs.start({ id: 'r1', startedAt: '2026-03-01T00:00:00.000Z', trigger: 'cli', spreadsheetId: 's', sheet: 'T' });
      await source.runs.end('r1', 'done', { asked: 1 });
      const jobs = source.batchJobs<{ row: string }>();
      await jobs.record(job('b1', '2026-03-01T00:00:00.000Z'), [line('c1', 'v3'), line('c2', 'v4')]);
      await source.limitMemory(() => Date.parse('2026-03-01T00:00:00.000Z')).learn({ provider: 'p', model: 'm', apiKey: 'key-123456' }, { rpm: 10 });
      await source.fieldMemory(() => Date.parse('2026-03-01T00:00:00.000Z')).learn({ provider: 'p', model: 'm' }, 'seed', 'Unknown name "seed"');
      await source.embeddings.put('v1', 'INVALID', 'emb', '', Buffer.from([1, 2, 3, 4]));
      await source.calibrations.put('cascade-1', { threshold: 0.7 }, '2026-03-01T00:00:00.000Z');
      await source.answerSizes.learn({ provider: 'p', model: 'm', prompt: 'q/rows-1' }, [150, 160]);
      const chunks = await drain(source.dump());
      expect(new Set(chunks.map((c) => c.table))).toEqual(new Set(DUMP_TABLES));

      const copy = await fresh();
      let added = 0;
      for (const chunk of chunks) added += await copy.restore(chunk);
      expect(added).toBe(chunks.reduce((n, c) => n + c.rows.length, 0));
      let again = 0;
      for (const chunk of chunks) again += await copy.restore(chunk);
      expect(again).toBe(0);
      expect(await copy.restore({ table: 'verdicts', rows: [] })).toBe(0);

      expect(await copy.get('v1')).toEqual(verdictOf('v1'));
      expect(await copy.count()).toBe(2);
      expect(await copy.getOverride('v1')).toEqual({ key: 'v1', verdict: 'VALID', note: 'ok', recordedAt: '2026-03-01T00:00:00.000Z' });
      expect((await copy.runs.recent(5)).map((r) => [r.id, r.status, r.summary])).toEqual([['r1', 'done', { asked: 1 }]]);
      expect(Object.fromEntries(await copy.batchJobs<{ row: string }>().lines('b1'))).toEqual({ c1: [line('c1', 'v3')], c2: [line('c2', 'v4')] });
      expect([...(await copy.lookup(['v3'])).pending.keys()]).toEqual(['v3']);
      expect(await copy.limitMemory(() => Date.parse('2026-03-01T01:00:00.000Z')).recall({ provider: 'p', model: 'm', apiKey: 'key-123456' })).toEqual({ rpm: 10, tpm: undefined });
      expect(await copy.fieldMemory(() => Date.parse('2026-03-01T01:00:00.000Z')).recall({ provider: 'p', model: 'm' })).toEqual(['seed']);
      expect(await copy.embeddings.previous('v1')).toEqual({ status: 'INVALID', bytes: 4, model: 'emb', scope: '' });
      expect(await copy.calibrations.get('cascade-1')).toEqual({ scope: 'cascade-1', record: { threshold: 0.7 }, calibratedAt: '2026-03-01T00:00:00.000Z' });
      expect(await copy.answerSizes.recall({ provider: 'p', model: 'm', prompt: 'q/rows-1' })).toEqual([150, 160]);
      // The copy dumps the same rows as the source.
      const normalized = (list: DumpChunk[]) => JSON.stringify(list.map((c) => ({ table: c.table, rows: c.rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Buffer.isBuffer(v) || v instanceof Uint8Array ? [...v] : v]))) })));
      expect(normalized(await drain(copy.dump()))).toBe(normalized(chunks));
    });

    it('restoring again brings up to date a run copied while running and a batch job applied since, never the other way', async () => {
      const source = await fresh();
      await source.runs.start({ id: 'r1', startedAt: '2026-03-01T00:00:00.000Z', trigger: 'cli', spreadsheetId: 's', sheet: 'T' });
      const jobs = source.batchJobs<{ row: string }>();
      await jobs.record(job('b1', '2026-03-01T00:00:00.000Z'), [line('c1', 'v3')]);
      const early = await drain(source.dump());
      const copy = await fresh();
      for (const chunk of early) await copy.restore(chunk);
      expect((await copy.runs.recent(5)).map((r) => r.status)).toEqual(['running']);

      await source.runs.end('r1', 'completed', { asked: 1 });
      await jobs.markApplied('b1', { saved: 1 });
      const counts = { updated: 0 };
      let added = 0;
      for (const chunk of await drain(source.dump())) added += await copy.restore(chunk, counts);
      expect(added).toBe(0);
      expect(counts.updated).toBe(2);
      const [ended] = await copy.runs.recent(5);
      expect([ended?.status, ended?.summary]).toEqual(['completed', { asked: 1 }]);
      expect(ended?.endedAt).toBeTruthy();
      const applied = await copy.batchJobs<{ row: string }>().get('b1');
      expect(applied?.appliedAt).toBeTruthy();
      expect(applied?.appliedAt).toBe((await jobs.get('b1'))?.appliedAt);

      // The older dump again: nothing goes back, nothing is counted.
      const again = { updated: 0 };
      for (const chunk of early) await copy.restore(chunk, again);
      expect(again.updated).toBe(0);
      expect((await copy.runs.recent(5)).map((r) => r.status)).toEqual(['completed']);
      expect((await copy.batchJobs<{ row: string }>().get('b1'))?.appliedAt).toBe(applied?.appliedAt);
    });

    it('dump then restore keeps the order of a group\'s runs started in one millisecond (ids sorting otherwise)', async () => {
      const source = await fresh();
      const at = '2026-12-04T23:00:00.000Z';
      for (const [id, target] of [['r-9f', 'Orders'], ['r-1c', 'Invoices'], ['r-5a', 'Returns']] as const) {
        await source.runs.start({ id, startedAt: at, trigger: 'cli', spreadsheetId: 's', sheet: target, target, group: 'g-1' });
      }
      const before = (await source.runs.recent(10)).map((r) => r.id);
      expect(before).toEqual(['r-9f', 'r-1c', 'r-5a']);
      const copy = await fresh();
      for await (const chunk of source.dump()) await copy.restore(chunk);
      expect((await copy.runs.recent(10)).map((r) => r.id)).toEqual(before);
    });

    it('claims: the first holder keeps a key until it releases it or the claim goes stale; another gets only the free keys', async () => {
      const store = await fresh();
      // A claim holds while its run holds a run lock.
      const locks = [await store.locks.acquire('sheet-1/One', 'one'), await store.locks.acquire('sheet-1/Two', 'two')];
      const t0 = '2026-03-01T00:00:00.000Z';
      const before = '2026-02-28T23:58:00.000Z';
      expect([...(await store.claims.claim(['a', 'b', 'a'], 'one', t0, before))].sort()).toEqual(['a', 'b']);
      expect(await store.claims.holderOf('a')).toEqual({ holder: 'one', claimedAt: t0, live: true });
      expect([...(await store.claims.claim(['a', 'c'], 'two', t0, before))]).toEqual(['c']);
      // Its own claim again: still its own, renewed.
      expect([...(await store.claims.claim(['a'], 'one', '2026-03-01T00:00:01.000Z', before))]).toEqual(['a']);
      // Another's release changes nothing; the holder's frees the key.
      await store.claims.release(['a'], 'two');
      expect((await store.claims.holderOf('a'))?.holder).toBe('one');
      await store.claims.release(['a', 'b'], 'one');
      expect(await store.claims.holderOf('a')).toBeUndefined();
      expect([...(await store.claims.claim(['a'], 'two', t0, before))]).toEqual(['a']);
      // A claim older than staleBefore is taken over.
      expect([...(await store.claims.claim(['c'], 'three', '2026-03-01T00:05:00.000Z', '2026-03-01T00:03:00.000Z'))]).toEqual(['c']);
      expect((await store.claims.holderOf('c'))?.holder).toBe('three');
      expect((await store.claims.claim([], 'one', t0, before)).size).toBe(0);
      await store.claims.release([], 'one');
      // A run that no longer holds its lock (ended, killed and taken over): its claims are free at once.
      expect([...(await store.claims.claim(['d'], 'one', t0, before))]).toEqual(['d']);
      await locks[0]?.release();
      expect(await store.claims.holderOf('d')).toEqual({ holder: 'one', claimedAt: t0, live: false });
      expect([...(await store.claims.claim(['d'], 'two', t0, before))]).toEqual(['d']);
      await locks[1]?.release();
    });

    describe('locks', () => {
      it('one holder at a time: a second acquire fails naming the holder; release frees the lock', async () => {
        const store = await fresh();
        expect(await store.locks.holder('sheet-1/Status')).toBeUndefined();
        const lock = await store.locks.acquire('sheet-1/Status', 'run-1', { label: 'tab Status' });
        expect(lock.tookOver).toBeUndefined();
        expect(await lock.heartbeat()).toBe(true);
        expect(await lock.heartbeat()).toBe(true);
        expect(await store.locks.holder('sheet-1/Status')).toMatchObject({ runId: 'run-1', pid: process.pid });
        const refused = await store.locks.acquire('sheet-1/Status', 'run-2', { label: 'tab Status' }).then(
          () => undefined,
          (error: unknown) => error,
        );
        expect(refused).toBeInstanceOf(LockedError);
        expect((refused as Error).message).toContain('tab Status');
        expect((refused as Error).message).toContain('run-1');
        expect((refused as Error).message).toContain(`pid ${process.pid}`);
        // Another name is another lock.
        const other = await store.locks.acquire('sheet-1/Other', 'run-3');
        await other.release();
        await lock.release();
        expect(await store.locks.holder('sheet-1/Status')).toBeUndefined();
        const next = await store.locks.acquire('sheet-1/Status', 'run-2');
        expect(next.tookOver).toBeUndefined();
        expect(await store.locks.holder('sheet-1/Status')).toMatchObject({ runId: 'run-2' });
        await next.release();
        // A released lock is no longer ours.
        expect(await next.heartbeat()).toBe(false);
      });

      it('a lock named with any text, NUL and U+0001 (PostgreSQL\'s text escape) among it: held, named by holder, refused to another, and its claims live', async () => {
        const store = await fresh();
        // A tab name is the user's text: the lock's name is spreadsheet/tab.
        for (const name of ['sheet-1/a\u0001b', 'sheet-1/a\u00001', 'sheet-1/\u0001', 'sheet-1/nul\u0000']) {
          const lock = await store.locks.acquire(name, `run ${name}`, { label: 'the tab' });
          expect(await store.locks.holder(name)).toMatchObject({ runId: `run ${name}`, pid: process.pid });
          const refused = await store.locks.acquire(name, 'another', { label: 'the tab' }).then(
            () => undefined,
            (error: unknown) => error,
          );
          expect(refused).toBeInstanceOf(LockedError);
          expect((refused as Error).message).toContain(`run ${name}`);
          const t0 = new Date().toISOString();
          expect([...(await store.claims.claim([`key of ${name}`], `run ${name}`, t0, new Date(Date.parse(t0) - 60_000).toISOString()))]).toEqual([`key of ${name}`]);
          expect(await store.claims.holderOf(`key of ${name}`)).toEqual({ holder: `run ${name}`, claimedAt: t0, live: true });
          expect(await lock.heartbeat()).toBe(true);
          await lock.release();
          expect(await store.locks.holder(name)).toBeUndefined();
          expect((await store.claims.holderOf(`key of ${name}`))?.live).toBe(false);
        }
        // Names that differ only in how the escape would write them stay two locks.
        const one = await store.locks.acquire('x\u00010', 'one');
        const two = await store.locks.acquire('x\u0000', 'two');
        expect((await store.locks.holder('x\u00010'))?.runId).toBe('one');
        expect((await store.locks.holder('x\u0000'))?.runId).toBe('two');
        await one.release();
        await two.release();
      });

      it('several acquires at once: exactly one wins', async () => {
        const store = await fresh();
        const results = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => store.locks.acquire('race', `run-${i}`)));
        const won = results.filter((r) => r.status === 'fulfilled');
        expect(won).toHaveLength(1);
        for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(LockedError);
        for (const r of won) await r.value.release();
      });
    });
  });
}

/** A verdict as a dump row (column names as the schema names them). */
export function dumpRow(v: CachedVerdict): Record<string, unknown> {
  return {
    key: v.key,
    verdict: v.verdict,
    issues: JSON.stringify(v.issues),
    suggestion: v.suggestion,
    model: v.model,
    provider: v.provider,
    checked_at: v.checkedAt,
    confidence: v.confidence,
    prompt_tokens: v.promptTokens,
    completion_tokens: v.completionTokens,
    cached_tokens: v.cachedTokens,
  };
}
