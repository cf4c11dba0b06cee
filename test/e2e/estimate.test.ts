import { afterEach, describe, expect, it } from 'vitest';
import { startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

interface EstimateJson {
  rows: number;
  toAsk: number;
  questions: number;
  modes: Array<{ mode: string; requests: number; promptTokens: number; cachedTokens: number; completionTokens: number; costUsd: number | null }>;
}

describe('estimate', () => {
  it('counts calls, tokens and dollars per mode before anything is spent, from one read', async () => {
    bed = await startBed({ rows: sampleRows(20), config: { rules: { text: 'Say what was done and what is next. '.repeat(150) } } });
    const reads = bed.sheets.readCount();
    const result = await bed.cli(['estimate', '--config', bed.configPath, '--json']);
    expect(result.code).toBe(0);
    expect(bed.llm.callCount()).toBe(0);
    expect(bed.sheets.readCount() - reads).toBe(1);
    expect(bed.sheets.writeCount()).toBe(0);
    const e = JSON.parse(result.stdout) as EstimateJson;
    expect(e).toMatchObject({ rows: 20, toAsk: 20, questions: 20 });
    const [naive, sync, packed, batch, both] = e.modes;
    expect(naive?.requests).toBe(20);
    expect(packed?.requests).toBe(4);
    // A long rulebook: the cached prefix makes sync cheaper than naive, packing cheaper still, batch halves.
    expect(sync?.cachedTokens).toBeGreaterThan(0);
    expect(sync?.costUsd ?? 1).toBeLessThan(naive?.costUsd ?? 0);
    expect(packed?.promptTokens ?? 1e9).toBeLessThan((sync?.promptTokens ?? 0) / 3);
    expect(batch?.costUsd).toBeCloseTo((naive?.costUsd ?? 0) / 2, 6);
    expect(both?.costUsd ?? 1).toBeLessThan(batch?.costUsd ?? 0);
  });

  it('estimates nothing to ask once every row is cached and shown', async () => {
    bed = await startBed({ rows: sampleRows(5) });
    await bed.run();
    const result = await bed.cli(['estimate', '--config', bed.configPath]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('5 rows in "Statuses"; 0 would be asked about');
  });
});
