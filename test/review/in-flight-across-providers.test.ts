/**
 * Review of issue 14, invariant 4: "LLM requests in flight never exceed max_workers".
 * A single-target run has max_workers workers in all, so however its rows spread over
 * the primary and a fallback, at most max_workers requests are in flight. A portfolio
 * runs max_workers workers PER TARGET and caps them only per provider gate (each gate
 * at max_workers): once some rows fall back, the primary and the fallback each carry
 * max_workers requests at once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HEADER, TAB, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

/** The most requests the emulator was serving at one moment. */
function peakInFlight(b: Bed): number {
  const edges = b.llm.requests.flatMap((r) => [
    { at: r.startedAt, d: 1 },
    { at: r.endedAt ?? r.startedAt, d: -1 },
  ]);
  edges.sort((x, y) => x.at - y.at || x.d - y.d);
  let now = 0;
  let peak = 0;
  for (const e of edges) peak = Math.max(peak, (now += e.d));
  return peak;
}

async function bedWith(targets: boolean): Promise<Bed> {
  const rows = sampleRows(24);
  const b = await startBed({
    rows: rows.slice(0, 8),
    moreTabs: [
      { title: 'B', rows: [HEADER, ...rows.slice(8, 16)] },
      { title: 'C', rows: [HEADER, ...rows.slice(16)] },
    ],
    llm: { latencyMs: 300 },
    config: { sheets: { read_quota_per_minute: 100_000, write_quota_per_minute: 100_000 } },
  });
  b.setConfig({
    llm: {
      max_workers: 2,
      max_retries: 0,
      providers: [
        { name: 'primary', model: 'gpt-5-mini', base_url: b.llm.url, api_key_env: 'TEST_OPENAI_KEY', rpm: 100_000 },
        { name: 'backup', model: 'gpt-4.1-mini', base_url: b.llm.url, api_key_env: 'TEST_OPENAI_KEY', rpm: 100_000 },
      ],
    },
    ...(targets ? { targets: [{ name: 'a', sheet: TAB }, { name: 'b', sheet: 'B' }, { name: 'c', sheet: 'C' }] } : {}),
  });
  // The first primary requests fail at once (a 503): their rows go to the backup.
  b.llm.injectFault({ kind: 'status', status: 503 }, { times: 2, match: (_row, req) => req.model === 'gpt-5-mini' });
  return b;
}

describe('requests in flight with a fallback provider', () => {
  it('control: a single-target run never has more than max_workers in flight', async () => {
    bed = await bedWith(false);
    const result = await bed.run();
    expect(result.code, result.stderr).toBe(0);
    expect(bed.llm.requests.some((r) => r.body !== undefined && (r.body as { model?: string }).model === 'gpt-4.1-mini')).toBe(true);
    expect(peakInFlight(bed)).toBeLessThanOrEqual(2);
  });

  it('a portfolio run never has more than max_workers in flight either', async () => {
    bed = await bedWith(true);
    const result = await bed.run();
    expect(result.code, result.stderr).toBe(0);
    expect(bed.llm.requests.some((r) => (r.body as { model?: string } | undefined)?.model === 'gpt-4.1-mini')).toBe(true);
    expect(peakInFlight(bed)).toBeLessThanOrEqual(2);
  });
});
