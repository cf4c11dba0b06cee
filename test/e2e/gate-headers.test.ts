/**
 * Issue 18, "also seen": the gate adopted any positive x-ratelimit-limit-* header. Here a
 * gateway in front of the model states "0.5" requests a minute: followed, the run would
 * send one request every two minutes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

interface Summary {
  warnings: string[];
}

describe('a gateway that states an unbelievable rate limit', () => {
  it('is not followed (a "0.5" would pace one request every two minutes): the run paces at the configured rpm and says so once', async () => {
    const rows = sampleRows(8);
    bed = await startBed({ rows, llm: { extraHeaders: { 'x-ratelimit-limit-requests': '0.5', 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '2m0s' } } });
    const b = bed;
    b.setConfig({ llm: { max_workers: 2, providers: [{ name: 'emulator', model: 'gpt-5-mini', base_url: b.llm.url, api_key_env: 'TEST_OPENAI_KEY', rpm: 6000 }] } });
    const started = Date.now();
    const result = await b.run('--json');
    expect(result.code, result.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    const summary = JSON.parse(result.stdout) as Summary;
    const said = summary.warnings.filter((w) => w.includes('x-ratelimit-limit-requests: 0.5'));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/provider "emulator": .*ignored; pacing at 6000 per minute/);
    expect(b.llm.callCount()).toBe(rows.length);
  }, 20_000);
});
