/**
 * Issue 25, item 3 on PostgreSQL (cache.url): the answer sizes a run learned are kept in the
 * shared database, and the next run (on any instance) starts from them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LEARN_AFTER } from '../../src/llm/index.js';
import { startBed, type Bed } from '../support/bed.js';
import type { RecordedRequest } from '../support/openai-emulator/index.js';
import { testCluster } from '../support/postgres-store.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

const CAP = 1000;
const chats = (b: Bed): RecordedRequest[] => b.llm.requests.filter((r) => r.path === '/v1/chat/completions').toSorted((a, b) => a.startedAt - b.startedAt);

describe('answer sizes in a shared PostgreSQL cache', () => {
  it('are kept by one run and start the next from the learned size', async () => {
    const cluster = await testCluster();
    const url = await cluster.createDatabase('sizes');
    bed = await startBed({ rows: sampleRows(LEARN_AFTER + 10), llm: { answerTokens: () => 150, latencyMs: 2 }, config: { llm: { max_workers: 2, max_completion_tokens: CAP } } });
    const base = bed.config as { llm: { providers: Array<Record<string, unknown>> } };
    bed.env.DATABASE_URL = url;
    bed.setConfig({ cache: { url: '${DATABASE_URL}' }, llm: { providers: [{ ...base.llm.providers[0], tpm: 5_000_000 }] } });
    const first = await bed.run('--json');
    expect(first.code, first.stderr).toBe(0);
    const firstRun = chats(bed).length;
    expect(chats(bed)[0]?.cap).toBe(CAP);
    const kept = await cluster.sql<{ model: string; sizes: string }>('SELECT model, sizes FROM answer_sizes', [], url.split('/').pop());
    expect(kept.map((r) => [r.model, (JSON.parse(r.sizes) as number[]).length])).toEqual([['gpt-5-mini', LEARN_AFTER + 10]]);

    const second = await bed.run('--json', '--force');
    expect(second.code, second.stderr).toBe(0);
    const again = chats(bed).slice(firstRun);
    expect(again.length).toBe(LEARN_AFTER + 10);
    // 150 tokens every time: 150 × 1.15 + 16 = 189 from the first request on.
    expect(again.every((r) => r.cap === 189)).toBe(true);
  });
});
