import { afterEach, describe, expect, it, vi } from 'vitest';
import { Bucket, ProviderGate, parseDuration, readRateHeaders } from '../../src/llm/index.js';

afterEach(() => {
  vi.useRealTimers();
});

function rateHeaders(values: Record<string, string>): Headers {
  return new Headers(values);
}

describe('parseDuration', () => {
  it.each([
    ['6m0s', 360_000],
    ['1s', 1000],
    ['12ms', 12],
    ['1.5s', 1500],
    ['1h2m3s', 3_723_000],
    ['0s', 0],
  ])('reads %s as %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', 'soon', '5', '5 minutes', '1s garbage'])('gives undefined for %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('readRateHeaders', () => {
  it('reads the limit, what remains and when it resets, for requests and tokens', () => {
    const seen = readRateHeaders(
      rateHeaders({
        'x-ratelimit-limit-requests': '1200',
        'x-ratelimit-remaining-requests': '1187',
        'x-ratelimit-reset-requests': '650ms',
        'x-ratelimit-limit-tokens': '200000',
        'x-ratelimit-remaining-tokens': '150000',
        'x-ratelimit-reset-tokens': '15s',
      }),
    );
    expect(seen).toEqual({
      requests: { limit: 1200, remaining: 1187, resetMs: 650 },
      tokens: { limit: 200_000, remaining: 150_000, resetMs: 15_000 },
    });
  });

  it('ignores a dimension whose headers are missing or not numbers', () => {
    expect(readRateHeaders(rateHeaders({ 'x-ratelimit-limit-requests': 'lots', 'x-ratelimit-remaining-requests': '3' }))).toEqual({});
    expect(readRateHeaders(undefined)).toEqual({});
  });
});

describe('Bucket', () => {
  it('never lets more than its per-minute budget through in any minute (counted over a simulated stream)', () => {
    let now = 0;
    const bucket = new Bucket(120, () => now);
    const times: number[] = [];
    while (now < 5 * 60_000) {
      const wait = bucket.waitFor(1);
      now += wait > 0 ? wait : 7;
      if (bucket.waitFor(1) === 0) {
        bucket.take(1);
        times.push(now);
      }
    }
    let peak = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while ((times[i] ?? 0) - (times[j] ?? 0) >= 60_000) j++;
      peak = Math.max(peak, i - j + 1);
    }
    // A full bucket (120) plus what refills during the minute (120) is the most any minute can see.
    expect(peak).toBeLessThanOrEqual(240);
    // Over five minutes the stream gets about its budget: the first full bucket plus 120 a minute.
    expect(times.length).toBeGreaterThanOrEqual(5 * 120);
    expect(times.length).toBeLessThanOrEqual(6 * 120 + 1);
  });

  it('takes the server at its word when it says less is left', () => {
    const now = 0;
    const bucket = new Bucket(100, () => now);
    bucket.sync(100, 3);
    expect(bucket.waitFor(3)).toBe(0);
    expect(bucket.waitFor(4)).toBeGreaterThan(0);
  });
});

describe('ProviderGate', () => {
  it('never lets more requests run at once than max_workers', async () => {
    const gate = new ProviderGate({ maxConcurrency: 3 });
    let running = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        const ticket = await gate.enter(0);
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 2));
        running--;
        gate.leave(ticket, { kind: 'answered', totalTokens: 0 });
      }),
    );
    expect(peak).toBe(3);
  });

  it('pauses every worker after one 429 (a shared cool-down)', async () => {
    vi.useFakeTimers();
    const gate = new ProviderGate({ maxConcurrency: 10 });
    const ticket = await gate.enter(0);
    gate.leave(ticket, { kind: 'rate_limited', waitMs: 1000 });
    const entered: number[] = [];
    const started = Date.now();
    const workers = Array.from({ length: 4 }, () => gate.enter(0).then(() => entered.push(Date.now() - started)));
    await vi.advanceTimersByTimeAsync(999);
    expect(entered).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await Promise.all(workers);
    expect(entered).toEqual([1000, 1000, 1000, 1000]);
  });

  it('halves its concurrency on a 429 and grows it back while answers come', async () => {
    let now = 0;
    const gate = new ProviderGate({ maxConcurrency: 16, now: () => now });
    const ticket = await gate.enter(0);
    gate.leave(ticket, { kind: 'rate_limited', waitMs: 100 });
    expect(gate.concurrency).toBe(8);
    // A burst of 429s from the same moment is one signal, not four halvings.
    for (let i = 0; i < 3; i++) gate.leave(ticket, { kind: 'rate_limited', waitMs: 100 });
    expect(gate.concurrency).toBe(8);
    now += 200;
    for (let i = 0; i < 200; i++) {
      const t = await gate.enter(0);
      now += 10;
      gate.leave(t, { kind: 'answered', totalTokens: 0 });
    }
    expect(gate.concurrency).toBe(16);
  });

  it('holds requests back once a configured rpm is spent, until it refills', async () => {
    vi.useFakeTimers();
    const gate = new ProviderGate({ maxConcurrency: 100, rpm: 60 });
    for (let i = 0; i < 60; i++) gate.leave(await gate.enter(0), { kind: 'answered', totalTokens: 0 });
    let entered = false;
    const next = gate.enter(0).then(() => (entered = true));
    await vi.advanceTimersByTimeAsync(990);
    expect(entered).toBe(false);
    // 60 a minute refill one a second.
    await vi.advanceTimersByTimeAsync(10);
    await next;
    expect(entered).toBe(true);
  });

  it('learns a token budget from the headers and reserves estimated tokens against it', async () => {
    vi.useFakeTimers();
    const gate = new ProviderGate({ maxConcurrency: 10 });
    expect(gate.metersTokens).toBe(false);
    const first = await gate.enter(0);
    gate.leave(first, { kind: 'answered', totalTokens: 0 }, rateHeaders({ 'x-ratelimit-limit-tokens': '6000', 'x-ratelimit-remaining-tokens': '1000', 'x-ratelimit-reset-tokens': '50s' }));
    expect(gate.metersTokens).toBe(true);
    const ticket = await gate.enter(900);
    let entered = false;
    const next = gate.enter(900).then(() => (entered = true));
    // 100 tokens left, 6000 a minute refill 100 a second: 800 more would take 8 s.
    await vi.advanceTimersByTimeAsync(1000);
    expect(entered).toBe(false);
    // The first answer used only 300 of its 900: the 600 come back at once.
    gate.leave(ticket, { kind: 'answered', totalTokens: 300 });
    await vi.advanceTimersByTimeAsync(2100);
    await next;
    expect(entered).toBe(true);
  });

  it('rejects a concurrency below 1, naming it', () => {
    expect(() => new ProviderGate({ maxConcurrency: 0 })).toThrow(/maxConcurrency must be a whole number ≥ 1, got 0/);
  });
});
