import { afterEach, describe, expect, it } from 'vitest';
import { startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

interface Summary {
  llm: { cacheHitRate: number; promptCacheKey: string };
}

const LONG_RULES = { rules: { text: 'Say what was done, what is next, who owns it and by when; name blockers and their owners. '.repeat(60) } };

async function hitRate(shardRpm: number): Promise<{ rate: number; keys: number }> {
  const b = await startBed({ rows: sampleRows(120), llm: { promptCacheKeyRpm: 15 }, config: { ...LONG_RULES, llm: { max_workers: 10, prompt_cache_key_rpm: shardRpm } } });
  try {
    const result = await b.run('--json');
    expect(result.code).toBe(0);
    const keys = new Set(b.llm.requests.map((r) => r.promptCacheKey)).size;
    return { rate: (JSON.parse(result.stdout) as Summary).llm.cacheHitRate, keys };
  } finally {
    await b.close();
  }
}

describe('prompt cache keys', () => {
  it('keeps one key for the whole run by default', async () => {
    bed = await startBed({ rows: sampleRows(30), config: LONG_RULES });
    await bed.run();
    expect(new Set(bed.llm.requests.map((r) => r.promptCacheKey)).size).toBe(1);
  });

  it('shards a busy key (prompt_cache_key_rpm) and raises the cache hit rate when one key would overflow', async () => {
    const before = await hitRate(0);
    const after = await hitRate(15);
    console.log(`prompt cache hit rate: one key ${(before.rate * 100).toFixed(1)}%, sharded over ${after.keys} keys ${(after.rate * 100).toFixed(1)}%`);
    expect(before.keys).toBe(1);
    expect(after.keys).toBeGreaterThan(4);
    expect(before.rate).toBeLessThan(0.2);
    expect(after.rate).toBeGreaterThan(0.6);
  });
});
