import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_BACKOFF, backoffDelay, retryAfterMs, sleep } from '../../src/retry/index.js';

const ALMOST_ONE = 0.9999999999;
const lowest = () => 0;
const highest = () => ALMOST_ONE;

afterEach(() => {
  vi.useRealTimers();
});

describe('backoffDelay', () => {
  it('waits nothing at the bottom of the jitter range', () => {
    for (let attempt = 0; attempt < 12; attempt++) expect(backoffDelay(attempt, DEFAULT_BACKOFF, lowest)).toBe(0);
  });

  it('stays below base × 2^attempt at the top of the jitter range', () => {
    const options = { baseMs: 100, capMs: 1_000_000 };
    for (let attempt = 0; attempt < 10; attempt++) {
      const ceiling = 100 * 2 ** attempt;
      const delay = backoffDelay(attempt, options, highest);
      expect(delay).toBeLessThan(ceiling);
      expect(delay).toBe(ceiling - 1);
    }
  });

  it('never waits longer than the cap, however many attempts', () => {
    const options = { baseMs: 500, capMs: 30_000 };
    for (const attempt of [6, 7, 20, 31, 1000]) {
      expect(backoffDelay(attempt, options, highest)).toBe(29_999);
    }
  });

  it('spreads delays uniformly over the range (full jitter)', () => {
    expect(backoffDelay(2, { baseMs: 1000, capMs: 60_000 }, () => 0.5)).toBe(2000);
    expect(backoffDelay(2, { baseMs: 1000, capMs: 60_000 }, () => 0.25)).toBe(1000);
  });

  it('uses Math.random by default and stays within the default range', () => {
    for (let i = 0; i < 200; i++) {
      const delay = backoffDelay(1);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(DEFAULT_BACKOFF.baseMs * 2);
      expect(Number.isInteger(delay)).toBe(true);
    }
  });

  it('rejects a negative or fractional attempt, naming the parameter', () => {
    expect(() => backoffDelay(-1)).toThrow(RangeError);
    expect(() => backoffDelay(-1)).toThrow(/attempt must be a whole number ≥ 0, got -1/);
    expect(() => backoffDelay(1.5)).toThrow(/attempt.*got 1\.5/);
    expect(() => backoffDelay(Number.NaN)).toThrow(RangeError);
  });
});

describe('retryAfterMs', () => {
  const now = Date.parse('2025-03-01T12:00:00Z');

  it('prefers retry-after-ms over retry-after and rounds it up', () => {
    expect(retryAfterMs({ 'retry-after-ms': '250.2', 'retry-after': '9' }, now)).toBe(251);
  });

  it('reads retry-after as seconds', () => {
    expect(retryAfterMs({ 'retry-after': '2' }, now)).toBe(2000);
    expect(retryAfterMs({ 'retry-after': '0.5' }, now)).toBe(500);
    expect(retryAfterMs({ 'retry-after': '0' }, now)).toBe(0);
  });

  it('reads retry-after as an HTTP date', () => {
    expect(retryAfterMs({ 'retry-after': 'Sat, 01 Mar 2025 12:00:30 GMT' }, now)).toBe(30_000);
  });

  it('waits nothing for an HTTP date already past', () => {
    expect(retryAfterMs({ 'retry-after': 'Sat, 01 Mar 2025 11:00:00 GMT' }, now)).toBe(0);
  });

  it('ignores a wait of ten minutes or more', () => {
    expect(retryAfterMs({ 'retry-after': '600' }, now)).toBeUndefined();
    expect(retryAfterMs({ 'retry-after-ms': '600000' }, now)).toBeUndefined();
    expect(retryAfterMs({ 'retry-after': 'Sat, 01 Mar 2025 13:00:00 GMT' }, now)).toBeUndefined();
  });

  it('falls back to retry-after when retry-after-ms is garbage', () => {
    expect(retryAfterMs({ 'retry-after-ms': 'soon', 'retry-after': '3' }, now)).toBe(3000);
  });

  it('gives undefined for garbage', () => {
    for (const value of ['soon', '', 'abc123', '12abc', '1e3']) {
      expect(retryAfterMs({ 'retry-after': value }, now), value).toBeUndefined();
    }
  });

  it('gives undefined for a negative number of seconds', () => {
    expect(retryAfterMs({ 'retry-after': '-1' }, now)).toBeUndefined();
    expect(retryAfterMs({ 'retry-after-ms': '-5' }, now)).toBeUndefined();
  });

  it('gives undefined when the server did not say', () => {
    expect(retryAfterMs({}, now)).toBeUndefined();
    expect(retryAfterMs(undefined, now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
    expect(retryAfterMs(new Headers(), now)).toBeUndefined();
  });

  it('reads a Headers object whatever the case of the header name', () => {
    expect(retryAfterMs(new Headers({ 'Retry-After': '3' }), now)).toBe(3000);
    expect(retryAfterMs(new Headers({ 'Retry-After-Ms': '40' }), now)).toBe(40);
  });

  it('reads a plain record, taking the first of repeated values', () => {
    expect(retryAfterMs({ 'retry-after': '4' }, now)).toBe(4000);
    expect(retryAfterMs({ 'retry-after': ['4', '5'] }, now)).toBe(4000);
    expect(retryAfterMs({ 'retry-after': undefined, 'retry-after-ms': '7' }, now)).toBe(7);
  });

  it('reads a plain record whatever the case of its keys, as HTTP header names are case-insensitive', () => {
    expect(retryAfterMs({ 'Retry-After': '3' }, now)).toBe(3000);
  });

  it('uses the current time by default for an HTTP date', () => {
    const inTenSeconds = new Date(Date.now() + 10_000).toUTCString();
    const wait = retryAfterMs({ 'retry-after': inTenSeconds });
    expect(wait).toBeGreaterThan(8_000);
    expect(wait).toBeLessThanOrEqual(10_000);
  });
});

describe('sleep', () => {
  it('resolves after the given time', async () => {
    vi.useFakeTimers();
    let done = false;
    const sleeping = sleep(1000).then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(999);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await sleeping;
    expect(done).toBe(true);
  });

  it('treats a negative time as no wait', async () => {
    vi.useFakeTimers();
    const sleeping = sleep(-50);
    await vi.advanceTimersByTimeAsync(0);
    await expect(sleeping).resolves.toBeUndefined();
  });

  it("rejects with the signal's reason when aborted mid-sleep, and leaves no timer behind", async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const sleeping = sleep(60_000, controller.signal);
    expect(vi.getTimerCount()).toBe(1);
    const reason = new Error('stopped by the user');
    controller.abort(reason);
    await expect(sleeping).rejects.toBe(reason);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects at once when the signal is already aborted', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    controller.abort();
    await expect(sleep(60_000, controller.signal)).rejects.toMatchObject({ name: 'AbortError' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('stops listening to the signal once it resolves', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const removed = vi.spyOn(controller.signal, 'removeEventListener');
    const sleeping = sleep(10, controller.signal);
    await vi.advanceTimersByTimeAsync(10);
    await sleeping;
    expect(removed).toHaveBeenCalledWith('abort', expect.any(Function));
    controller.abort();
  });
});
