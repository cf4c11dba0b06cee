import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { keyHash } from '../../src/cache/index.js';
import { API_KEY, startBed, type Bed } from '../support/bed.js';
import type { RecordedRequest } from '../support/openai-emulator/index.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

interface Summary {
  verdicts: { valid: number; invalid: number; error: number };
}

/**
 * The most that arrived at the server in any sliding window [t, t + span) that starts
 * at least `after` ms after the first request, counted in units `cost` of each request.
 */
function peakPerWindow(requests: readonly RecordedRequest[], span: number, after: number, cost: (r: RecordedRequest) => number = () => 1): number {
  const sorted = requests.toSorted((a, b) => a.startedAt - b.startedAt);
  const first = sorted[0]?.startedAt ?? 0;
  let peak = 0;
  for (let i = 0; i < sorted.length; i++) {
    const start = sorted[i]?.startedAt ?? 0;
    if (start - first < after) continue;
    let sum = 0;
    for (let j = i; j < sorted.length && (sorted[j]?.startedAt ?? 0) - start < span; j++) sum += cost(sorted[j] as RecordedRequest);
    peak = Math.max(peak, sum);
  }
  return peak;
}

/** How many requests' worth arrivals may bunch by when recorded on a busy shared event loop. */
const ARRIVAL_JITTER_REQUESTS = 1;

const chats = (bed: Bed) => bed.llm.requests.filter((r) => r.path === '/v1/chat/completions');
const limited = (requests: readonly RecordedRequest[]) => requests.filter((r) => r.fault?.startsWith('rate_limit:')).length;

describe('pacing at the limits providers enforce (per-minute limits metered per second)', () => {
  it("never sends more than one second's share of a per-minute limit learned from the headers, after a single probe", async () => {
    // 1,200 requests a minute enforced per second: 20 a second, 100 workers, nothing configured.
    // (Slow enough that the emulator's arrival times, recorded on the bot's own event loop,
    // jitter by much less than the 50 ms between requests.)
    bed = await startBed({ rows: sampleRows(120), llm: { rateLimit: { rpm: 1200 }, latencyMs: { mean: 30, jitter: 10 } }, config: { llm: { max_workers: 100 } } });
    const result = await bed.run('--json');
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as Summary;
    expect(summary.verdicts.valid + summary.verdicts.invalid).toBe(120);
    const requests = chats(bed);
    // The probe goes alone: the second request leaves only once the first has answered.
    const [probe, second] = requests.toSorted((a, b) => a.startedAt - b.startedAt);
    expect(second?.startedAt).toBeGreaterThanOrEqual(probe?.endedAt ?? Infinity);
    // The share is 20. The emulator records arrivals on the bot's own event loop: a busy
    // moment delays the recording of a few on-time requests, bunching them by up to one
    // request's worth (the gate's own departures are counted exactly in test/unit/gate.test.ts).
    expect(peakPerWindow(requests, 1000, 1000)).toBeLessThanOrEqual(20 + ARRIVAL_JITTER_REQUESTS);
    expect(limited(requests)).toBeLessThanOrEqual(1);
    expect(bed.llm.peakInFlight).toBeLessThanOrEqual(100);
  });

  it("keeps tokens within one second's share of a configured tpm (prompt estimate plus max_completion_tokens, as the server counts them)", async () => {
    // 300,000 tokens a minute per second: 5,000 a second; each request costs its prompt plus 300 (~730).
    bed = await startBed({
      rows: sampleRows(40),
      llm: { rateLimit: { tpm: 300_000 }, latencyMs: { mean: 30, jitter: 10 } },
      config: { llm: { max_workers: 50, max_completion_tokens: 300 } },
    });
    const base = bed.config as { llm: { providers: Array<Record<string, unknown>> } };
    bed.setConfig({ llm: { providers: [{ ...base.llm.providers[0], tpm: 300_000 }] } });
    const result = await bed.run('--json');
    expect(result.code).toBe(0);
    const requests = chats(bed);
    // What the server charges at admission: the prompt plus the cap the request asked for (300,
    // or the learned answer size once 20 answers are known: issue 25).
    const cost = (r: RecordedRequest) => (r.usage?.prompt_tokens ?? 0) + (r.cap ?? 300);
    const biggest = Math.max(...requests.map(cost));
    // An even pace keeps any window within its share and the request that straddles its edge
    // (plus, as above, one request's worth of jitter in how the emulator records arrivals).
    expect(peakPerWindow(requests, 1000, 1000, cost)).toBeLessThanOrEqual(5_000 + (1 + ARRIVAL_JITTER_REQUESTS) * biggest);
    expect(limited(requests)).toBe(0);
  });

  it('starts the next run at the pace the last one learned, without a probe, and keeps only the key hash in SQLite', async () => {
    bed = await startBed({ rows: sampleRows(40), llm: { rateLimit: { rpm: 6000 }, latencyMs: 80 }, config: { llm: { max_workers: 20 } } });
    expect((await bed.run('--json')).code).toBe(0);
    const firstRun = chats(bed).length;
    expect((await bed.run('--json', '--force')).code).toBe(0);
    const [head, next] = chats(bed).slice(firstRun).toSorted((a, b) => a.startedAt - b.startedAt);
    // Remembered: the second request leaves 10 ms after the first (the pace), not after its 80 ms answer.
    expect(next?.startedAt).toBeLessThan(head?.endedAt ?? 0);
    const file = readFileSync(path.join(bed.dir, 'cache.sqlite'));
    const wal = (() => {
      try {
        return readFileSync(path.join(bed.dir, 'cache.sqlite-wal'));
      } catch {
        return Buffer.alloc(0);
      }
    })();
    const bytes = Buffer.concat([file, wal]);
    expect(bytes.includes(Buffer.from(API_KEY))).toBe(false);
    expect(bytes.includes(Buffer.from(keyHash(API_KEY)))).toBe(true);
  });
});

describe('concurrency without rate headers', () => {
  it('sends one probe, then up to max_workers and never more in flight at the server', async () => {
    bed = await startBed({ rows: sampleRows(60), llm: { latencyMs: 40 }, config: { llm: { max_workers: 8 } } });
    expect((await bed.run('--json')).code).toBe(0);
    const requests = chats(bed).toSorted((a, b) => a.startedAt - b.startedAt);
    const probe = requests[0];
    // Nothing else leaves while the probe is out: no headers, so nothing is known yet.
    expect(requests.filter((r) => r !== probe && r.startedAt < (probe?.endedAt ?? 0))).toHaveLength(0);
    expect(bed.llm.peakInFlight).toBeLessThanOrEqual(8);
    expect(bed.llm.peakInFlight).toBeGreaterThanOrEqual(6);
  });
});
