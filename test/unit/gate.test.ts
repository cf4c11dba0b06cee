import { afterEach, describe, expect, it, vi } from 'vitest';
import { LATE_SLACK_MS, Meter, PACE_HEADROOM, ProviderGate, parseDuration, readRateHeaders } from '../../src/llm/index.js';

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
    // Not adopted, and listed to be said (gate-headers.test.ts).
    expect(readRateHeaders(rateHeaders({ 'x-ratelimit-limit-requests': 'lots', 'x-ratelimit-remaining-requests': '3' }))).toEqual({ implausible: [{ header: 'x-ratelimit-limit-requests', value: 'lots' }] });
    expect(readRateHeaders(undefined)).toEqual({});
  });
});

/** The most units that leave in any sliding window [t, t + span) of a list of (time, cost), sorted by time. */
function peakInWindow(events: ReadonlyArray<{ at: number; cost: number }>, span: number): number {
  let peak = 0;
  let sum = 0;
  for (let end = 0, start = 0; end < events.length; end++) {
    sum += events[end]?.cost ?? 0;
    while ((events[end]?.at ?? 0) - (events[start]?.at ?? 0) >= span) sum -= events[start++]?.cost ?? 0;
    peak = Math.max(peak, sum);
  }
  return peak;
}

const answered = { kind: 'answered', promptTokens: 0 } as const;
const NONE = { prompt: 0, completion: 0 };

/** `n` entries at once, moving the fake clock until the pace has let them all leave. */
async function enterAll(gate: ProviderGate, n: number, ms = 1000) {
  const entering = Promise.all(Array.from({ length: n }, () => gate.enter(NONE)));
  await vi.advanceTimersByTimeAsync(ms);
  return entering;
}

/** `count` requests through the gate by `workers` workers, each holding its slot `holdMs`; returns when each left. */
async function stream(gate: ProviderGate, count: number, workers: number, holdMs: number, cost: (i: number) => number = () => 0) {
  const left: Array<{ at: number; cost: number }> = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const ticket = await gate.enter({ prompt: 0, completion: cost(i) });
      left.push({ at: Date.now(), cost: ticket.tokens || 1 });
      await new Promise((r) => setTimeout(r, holdMs));
      gate.leave(ticket, answered);
    }
  };
  const all = Promise.all(Array.from({ length: workers }, worker));
  await vi.runAllTimersAsync();
  await all;
  return left;
}

describe('Meter', () => {
  it('spaces reservations by their cost at the limit (with its headroom), whatever is asked when', () => {
    const meter = new Meter(1200);
    const interval = 60_000 / (1200 * PACE_HEADROOM);
    let at = 0;
    const times: number[] = [];
    for (let i = 0; i < 100; i++) {
      at = meter.earliest(i % 7 === 0 ? at + 500 : at);
      meter.take(1, at);
      times.push(at);
    }
    for (let i = 1; i < times.length; i++) expect((times[i] ?? 0) - (times[i - 1] ?? 0)).toBeGreaterThanOrEqual(interval - LATE_SLACK_MS - 1e-9);
  });

  it('rejects a limit that is not a positive number, naming it', () => {
    expect(() => new Meter(0)).toThrow(/a per-minute limit must be a number > 0, got 0/);
  });
});

describe('ProviderGate', () => {
  it('never lets more requests run at once than max_workers (a p-limit limiter)', async () => {
    vi.useFakeTimers();
    const gate = new ProviderGate({ maxConcurrency: 3, rpm: 1_000_000 });
    let running = 0;
    let peak = 0;
    await Promise.all([
      ...Array.from({ length: 20 }, async () => {
        const ticket = await gate.enter(NONE);
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 2));
        running--;
        gate.leave(ticket, answered);
      }),
      vi.runAllTimersAsync(),
    ]);
    expect(peak).toBe(3);
  });

  it('lets requests leave evenly at a configured rpm: no sliding 1 s window holds more than its share', async () => {
    vi.useFakeTimers();
    const gate = new ProviderGate({ maxConcurrency: 100, rpm: 1200 });
    const started = Date.now();
    const left = await stream(gate, 400, 100, 50);
    // 1,200 a minute is 20 a second; a burst of 100 workers would put 100 in the first.
    expect(peakInWindow(left, 1000)).toBeLessThanOrEqual(20);
    const span = (left.at(-1)?.at ?? 0) - started;
    expect(span).toBeGreaterThanOrEqual((399 * 60_000) / 1200);
    expect(span).toBeLessThanOrEqual((400 * 60_000) / (1200 * PACE_HEADROOM));
  });

  it("lets tokens leave at a configured tpm so that a server metering one second's share admits every request", async () => {
    vi.useFakeTimers();
    const gate = new ProviderGate({ maxConcurrency: 50, tpm: 60_000 });
    const random = seeded(7);
    const left = await stream(gate, 200, 50, 20, () => 100 + Math.floor(random() * 800));
    // The server's meter: 1,000 tokens a second, a bucket of one second's share, full at first.
    let level = 1000;
    let last = left[0]?.at ?? 0;
    for (const { at, cost } of left) {
      level = Math.min(1000, level + (at - last));
      last = at;
      expect(level).toBeGreaterThanOrEqual(cost - 1e-6);
      level -= cost;
    }
    expect(peakInWindow(left, 1000)).toBeLessThanOrEqual(1000 + 900);
  });

  it('sends one probe when no limit is known, then paces every worker at the limit its headers state', async () => {
    vi.useFakeTimers();
    const gate = new ProviderGate({ maxConcurrency: 50 });
    const tickets: Array<{ at: number; ticket: Awaited<ReturnType<ProviderGate['enter']>> }> = [];
    const entering = Array.from({ length: 10 }, () => gate.enter(NONE).then((ticket) => tickets.push({ at: Date.now(), ticket })));
    await vi.advanceTimersByTimeAsync(1000);
    expect(tickets).toHaveLength(1);
    const probe = tickets[0]?.ticket;
    if (!probe) throw new Error('no probe');
    gate.leave(probe, answered, rateHeaders({ 'x-ratelimit-limit-requests': '600', 'x-ratelimit-remaining-requests': '599', 'x-ratelimit-reset-requests': '100ms' }));
    expect(gate.concurrency).toBe(50);
    expect(gate.limits.rpm).toBe(600);
    await vi.advanceTimersByTimeAsync(2000);
    await Promise.all(entering);
    const gaps = tickets.slice(2).map((t, i) => t.at - (tickets[i + 1]?.at ?? 0));
    // 600 a minute: one every 100 ms (a little more, the headroom), never two at once.
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(100 - LATE_SLACK_MS);
  });

  it('opens to max_workers after the probe when the provider states no limits, and halves on a 429 from there', async () => {
    vi.useFakeTimers();
    const gate = new ProviderGate({ maxConcurrency: 64 });
    expect(gate.concurrency).toBe(1);
    const [probe] = await enterAll(gate, 1);
    if (!probe) throw new Error('no probe');
    gate.leave(probe, answered);
    expect(gate.concurrency).toBe(64);
    const [next] = await enterAll(gate, 1);
    if (!next) throw new Error('no ticket');
    gate.leave(next, { kind: 'rate_limited', waitMs: 10 });
    expect(gate.concurrency).toBe(32);
  });

  it('holds every worker for the wait one 429 asked (a shared cool-down)', async () => {
    vi.useFakeTimers();
    const gate = new ProviderGate({ maxConcurrency: 10, rpm: 1_000_000 });
    const ticket = await gate.enter(NONE);
    gate.leave(ticket, { kind: 'rate_limited', waitMs: 1000 });
    const entered: number[] = [];
    const started = Date.now();
    const workers = Array.from({ length: 4 }, () =>
      gate.enter(NONE).then((t) => {
        entered.push(Date.now() - started);
        return t;
      }),
    );
    await vi.advanceTimersByTimeAsync(999);
    expect(entered).toEqual([]);
    await vi.advanceTimersByTimeAsync(10);
    await Promise.all(workers);
    expect(entered).toHaveLength(4);
    expect(Math.min(...entered)).toBeGreaterThanOrEqual(1000);
  });

  it('corrects the pace and the concurrency once for a burst of 429s, not once per worker', async () => {
    vi.useFakeTimers();
    const gate = new ProviderGate({ maxConcurrency: 16, rpm: 1_000_000 });
    const tickets = await enterAll(gate, 16, 10);
    // All 16 left before the first 429 came back: one correction.
    for (const ticket of tickets) gate.leave(ticket, { kind: 'rate_limited', waitMs: 100 });
    expect(gate.concurrency).toBe(8);
    await vi.advanceTimersByTimeAsync(200);
    // A request that left after the correction and still got a 429 is news: a second one.
    const [late] = await enterAll(gate, 1);
    if (!late) throw new Error('no ticket');
    gate.leave(late, { kind: 'rate_limited', waitMs: 100 });
    expect(gate.concurrency).toBe(4);
  });

  it('grows its concurrency back by answers, however slow they are', async () => {
    vi.useFakeTimers();
    const gate = new ProviderGate({ maxConcurrency: 16, rpm: 1_000_000 });
    const [first] = await enterAll(gate, 1);
    if (!first) throw new Error('no ticket');
    gate.leave(first, { kind: 'rate_limited', waitMs: 100 });
    expect(gate.concurrency).toBe(8);
    for (let round = 0; round < 40 && gate.concurrency < 16; round++) {
      const tickets = await enterAll(gate, gate.concurrency, 200);
      // Every answer ten times slower than the one before: latency has no say.
      await vi.advanceTimersByTimeAsync(100 * 10 ** Math.min(round, 4));
      for (const ticket of tickets) gate.leave(ticket, answered);
    }
    expect(gate.concurrency).toBe(16);
  });

  it('learns a token budget from the headers and only then asks for the estimate', async () => {
    vi.useFakeTimers();
    const gate = new ProviderGate({ maxConcurrency: 10 });
    let estimates = 0;
    const estimate = () => {
      estimates++;
      return Promise.resolve({ prompt: 600, completion: 300 });
    };
    const first = await gate.enter(estimate);
    expect(first.tokens).toBe(0);
    expect(estimates).toBe(0);
    gate.leave(first, answered, rateHeaders({ 'x-ratelimit-limit-tokens': '6000', 'x-ratelimit-remaining-tokens': '5000', 'x-ratelimit-reset-tokens': '10s' }));
    expect(gate.metersTokens).toBe(true);
    const second = await gate.enter(estimate);
    expect(second.tokens).toBe(900);
    let entered = false;
    const third = gate.enter(estimate).then((t) => {
      entered = true;
      return t;
    });
    // 6,000 a minute: 900 tokens take 9 s (a little more, the headroom) before the next may leave.
    await vi.advanceTimersByTimeAsync(9000);
    expect(entered).toBe(false);
    await vi.advanceTimersByTimeAsync(200);
    await third;
    expect(entered).toBe(true);
  });

  it('calibrates its prompt estimate by what the provider reports, for the requests that leave after', async () => {
    vi.useFakeTimers();
    const gate = new ProviderGate({ maxConcurrency: 10, tpm: 6_000_000 });
    const [first] = await Promise.all([gate.enter({ prompt: 600, completion: 300 }), vi.advanceTimersByTimeAsync(10)]);
    expect(first.tokens).toBe(900);
    // The provider counted twice what we estimated: the next estimate moves a fifth of the way.
    gate.leave(first, { kind: 'answered', promptTokens: 1200 });
    const [second] = await Promise.all([gate.enter({ prompt: 600, completion: 300 }), vi.advanceTimersByTimeAsync(10)]);
    expect(second.tokens - 300).toBeGreaterThanOrEqual(720);
    expect(second.tokens - 300).toBeLessThanOrEqual(721);
  });

  it('starts at a remembered pace without a probe, tells what the headers teach once, and that a 429 contradicted it', async () => {
    vi.useFakeTimers();
    const told: unknown[] = [];
    const gate = new ProviderGate({ maxConcurrency: 20, remembered: { rpm: 600 }, onLearned: (limits) => told.push(limits) });
    expect(gate.concurrency).toBe(20);
    const headers = rateHeaders({ 'x-ratelimit-limit-requests': '1200', 'x-ratelimit-remaining-requests': '10', 'x-ratelimit-reset-requests': '1s' });
    for (const ticket of await enterAll(gate, 3)) gate.leave(ticket, answered, headers);
    expect(gate.limits.rpm).toBe(1200);
    for (const ticket of await enterAll(gate, 1)) gate.leave(ticket, { kind: 'rate_limited', waitMs: 50 });
    expect(told).toEqual([{ rpm: 1200, tpm: undefined }, undefined]);
  });

  it('never paces above a configured limit, whatever the headers say', async () => {
    vi.useFakeTimers();
    const gate = new ProviderGate({ maxConcurrency: 5, rpm: 60 });
    gate.leave(await gate.enter(NONE), answered, rateHeaders({ 'x-ratelimit-limit-requests': '5000', 'x-ratelimit-remaining-requests': '4999' }));
    expect(gate.limits.rpm).toBe(60);
  });

  it('lets lanes take turns: a lane of 5 queued behind one of 100 has all 5 out among the first 11 to leave (turns)', async () => {
    vi.useFakeTimers();
    const gate = new ProviderGate({ maxConcurrency: 200, rpm: 600 });
    const big = gate.lane('big');
    const small = gate.lane('small');
    const order: string[] = [];
    const go = (lane: ProviderGate, name: string) => lane.enter(NONE).then((ticket) => {
      order.push(name);
      lane.leave(ticket, answered);
    });
    const all = [...Array.from({ length: 100 }, () => go(big, 'big')), ...Array.from({ length: 5 }, () => go(small, 'small'))];
    await vi.advanceTimersByTimeAsync(20_000);
    await Promise.all(all);
    expect(order).toHaveLength(105);
    // One first-come queue would let the small lane's first request out 101st.
    expect(order.slice(0, 11).filter((name) => name === 'small')).toHaveLength(5);
    // The lanes share one pace: 600 a minute is one every 100 ms (a little more, the headroom), whichever lane.
    expect(gate.limits.rpm).toBe(600);
  });

  it('keeps one concurrency limit and one pace for all its lanes', async () => {
    vi.useFakeTimers();
    const gate = new ProviderGate({ maxConcurrency: 3, rpm: 1200 });
    let running = 0;
    let peak = 0;
    const left: Array<{ at: number; cost: number }> = [];
    const work = (lane: ProviderGate) => async () => {
      for (let i = 0; i < 10; i++) {
        const ticket = await lane.enter(NONE);
        left.push({ at: Date.now(), cost: 1 });
        peak = Math.max(peak, ++running);
        // Slower than the pace: the limit, not the pace, caps what is out.
        await new Promise((r) => setTimeout(r, 500));
        running--;
        lane.leave(ticket, answered);
      }
    };
    const lanes = ['a', 'b', 'c', 'd'].map((name) => gate.lane(name));
    const all = Promise.all(lanes.flatMap((lane) => [work(lane)(), work(lane)()]));
    await vi.runAllTimersAsync();
    await all;
    expect(left).toHaveLength(80);
    expect(peak).toBe(3);
    // 1,200 a minute is 20 a second, for the four lanes together.
    left.sort((a, b) => a.at - b.at);
    expect(peakInWindow(left, 1000)).toBeLessThanOrEqual(20);
  });

  it('drops a request whose signal aborts while it waits, and lets the other lanes go on', async () => {
    vi.useFakeTimers();
    const gate = new ProviderGate({ maxConcurrency: 1, rpm: 1_000_000 });
    const first = await gate.enter(NONE);
    const stop = new AbortController();
    const aborted = gate.lane('a').enter(NONE, stop.signal);
    const other = gate.lane('b').enter(NONE);
    stop.abort(new Error('stopped'));
    await expect(aborted).rejects.toThrow('stopped');
    gate.leave(first, answered);
    const [ticket] = await Promise.all([other, vi.advanceTimersByTimeAsync(10)]);
    expect(ticket.departedAt).toBeGreaterThan(0);
    gate.leave(ticket, answered);
    expect(gate.concurrency).toBe(1);
  });

  it('rejects a concurrency below 1, naming it', () => {
    expect(() => new ProviderGate({ maxConcurrency: 0 })).toThrow(/maxConcurrency must be a whole number ≥ 1, got 0/);
  });
});

/** A small deterministic random source (mulberry32). */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
