/**
 * Issue 18, "also seen": the gate adopted any positive x-ratelimit-limit-* header. A
 * proxy's "0.5" paced one request every two minutes; a tiny value put the next departure
 * past setTimeout's ceiling, which Node fires after 1 ms: a busy spin. Stated limits are
 * now believed only as whole numbers in the range the config accepts, said once when not,
 * and no timer of the gate or of a retry is set past a sane bound.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PLAUSIBLE_LIMITS, ProviderGate, plausibleLimit, readRateHeaders } from '../../src/llm/index.js';
import { MAX_TIMER_MS } from '../../src/llm/gate-core.js';
import { MAX_SLEEP_MS, sleep } from '../../src/retry/index.js';

afterEach(() => {
  vi.restoreAllMocks();
});

const answered = { kind: 'answered', promptTokens: 10 } as const;

function stating(requests: string, tokens?: string): Headers {
  return new Headers({
    'x-ratelimit-limit-requests': requests,
    'x-ratelimit-remaining-requests': '5',
    ...(tokens === undefined ? {} : { 'x-ratelimit-limit-tokens': tokens, 'x-ratelimit-remaining-tokens': '5' }),
  });
}

describe('a stated rate limit', () => {
  it.each(['0.5', '1e-300', '1e300', '0', '-5', '60000.5', ' 12abc', '0x10', 'Infinity', '99999999999999999999'])('of %j is not adopted: the gate keeps its configured pace, and says so once', async (value) => {
    const warnings: string[] = [];
    const gate = new ProviderGate({ maxConcurrency: 2, rpm: 600, onWarning: (w) => warnings.push(w) });
    for (let i = 0; i < 3; i++) {
      const ticket = await gate.enter({ prompt: 1, completion: 1 });
      gate.leave(ticket, answered, stating(value));
    }
    expect(gate.limits.rpm).toBe(600);
    expect(warnings).toHaveLength(1);
    // A Headers object trims a value's surrounding whitespace, as HTTP does.
    expect(warnings[0]).toContain(`x-ratelimit-limit-requests: ${value.trim().slice(0, 40)}`);
    expect(warnings[0]).toMatch(/ignored; pacing at 600 per minute \(set llm\.providers\[\]\.rpm/);
  });

  it('with nothing configured, an unbelievable one leaves the gate unpaced (by its 429s), not paced at it', async () => {
    const warnings: string[] = [];
    const gate = new ProviderGate({ maxConcurrency: 4, onWarning: (w) => warnings.push(w) });
    const ticket = await gate.enter({ prompt: 1, completion: 1 });
    gate.leave(ticket, answered, stating('0.5'));
    expect(gate.limits).toEqual({ rpm: undefined, tpm: undefined });
    expect(warnings[0]).toMatch(/pacing by its 429s/);
    // The probe is over: every worker may go at once.
    const started = Date.now();
    const tickets = await Promise.all([0, 1, 2, 3].map(() => gate.enter({ prompt: 1, completion: 1 })));
    expect(Date.now() - started).toBeLessThan(1000);
    for (const t of tickets) gate.leave(t, answered);
  });

  it('that is a believable whole number is adopted as before', async () => {
    const gate = new ProviderGate({ maxConcurrency: 2 });
    const ticket = await gate.enter({ prompt: 1, completion: 1 });
    gate.leave(ticket, answered, stating('1200', '200000'));
    expect(gate.limits).toEqual({ rpm: 1200, tpm: 200_000 });
  });

  it('parsed from any header text never throws, and is adopted only as a whole number in range', () => {
    const text = fc.oneof(fc.string(), fc.double().map(String), fc.integer().map(String), fc.bigInt().map(String), fc.constantFrom('', ' ', '1e3', '+5', '５'));
    fc.assert(
      fc.property(text, text, text, text, (limitRequests, remaining, limitTokens, reset) => {
        const headers = new Headers();
        const set = (name: string, value: string) => {
          try {
            headers.set(name, value);
          } catch {
            // A value a Headers object refuses (a control character) never arrives as a header.
          }
        };
        set('x-ratelimit-limit-requests', limitRequests);
        set('x-ratelimit-remaining-requests', remaining);
        set('x-ratelimit-limit-tokens', limitTokens);
        set('x-ratelimit-remaining-tokens', remaining);
        set('x-ratelimit-reset-tokens', reset);
        const seen = readRateHeaders(headers);
        for (const dimension of ['requests', 'tokens'] as const) {
          const limit = seen[dimension]?.limit;
          if (limit === undefined) continue;
          expect(Number.isSafeInteger(limit)).toBe(true);
          expect(limit).toBeGreaterThanOrEqual(PLAUSIBLE_LIMITS[dimension].min);
          expect(limit).toBeLessThanOrEqual(PLAUSIBLE_LIMITS[dimension].max);
        }
        for (const raw of [limitRequests, limitTokens]) {
          const n = plausibleLimit('requests', raw);
          if (n !== undefined) expect(String(n)).toBe(raw.trim().replace(/^0+(?=\d)/, ''));
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('the waits of the gate and of a retry', () => {
  it('never set a timer past MAX_TIMER_MS, and do not spin, when a reservation is far larger than the budget', async () => {
    const delays: number[] = [];
    const real = globalThis.setTimeout;
    vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms?: number) => {
      delays.push(ms ?? 0);
      return real(fn, ms);
    }));
    // The smallest budget the config allows, and a request that reserves ten million tokens:
    // the next may leave only after 100,000 minutes, past setTimeout's ceiling.
    const gate = new ProviderGate({ maxConcurrency: 2, tpm: 100 });
    const first = await gate.enter({ prompt: 10_000_000, completion: 0 });
    gate.leave(first, answered);
    const controller = new AbortController();
    const second = gate.enter({ prompt: 1, completion: 0 }, controller.signal).catch(() => 'aborted');
    await new Promise((resolve) => real(resolve, 300));
    controller.abort();
    expect(await second).toBe('aborted');
    const gateDelays = delays.filter((ms) => ms !== 300);
    expect(gateDelays.length).toBeGreaterThan(0);
    // One timer (re-armed at most once a minute), not thousands of 1 ms ones.
    expect(gateDelays.length).toBeLessThan(5);
    expect(Math.max(...gateDelays)).toBeLessThanOrEqual(MAX_TIMER_MS);
  });

  it('a sleep asked for longer than setTimeout can hold waits (it is not fired after 1 ms)', async () => {
    const controller = new AbortController();
    let done = false;
    const slept = sleep(Number.MAX_SAFE_INTEGER, controller.signal).then(
      () => (done = true),
      () => 'aborted',
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(done).toBe(false);
    controller.abort();
    expect(await slept).toBe('aborted');
    expect(MAX_SLEEP_MS).toBe(2 ** 31 - 1);
  });
});
