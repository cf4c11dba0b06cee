import { afterEach, describe, expect, it, vi } from 'vitest';
import { pushTo } from '../../src/collections.js';
import { PacerRegistry, PROJECT_QUOTA_PER_MINUTE, QuotaPacer } from '../../src/sheets/quota.js';
import { SheetsQuota } from '../support/sheets-emulator/quota.js';
import { seededRandom } from '../support/inspect.js';

/** A clock the test moves by hand. */
function manualClock(start = 1_000_000) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

/** The most calls that fall in any half-open window [t, t + span) of a sorted list of times. */
function peakInWindow(times: readonly number[], span: number): number {
  let peak = 0;
  let start = 0;
  for (let end = 0; end < times.length; end++) {
    while ((times[end] ?? 0) - (times[start] ?? 0) >= span) start++;
    peak = Math.max(peak, end - start + 1);
  }
  return peak;
}

/**
 * Drives a pacer with a bursty stream of calls: each caller waits what delay() says
 * (by moving the clock), then takes its slot. Some calls come back with a 429 and
 * penalize the pacer. Returns the time of every call.
 */
async function simulate(perMinute: number, calls: number, seed: number, burst?: number, saturated = false): Promise<number[]> {
  const clock = manualClock();
  const pacer = burst === undefined ? new QuotaPacer(perMinute, clock.now) : new QuotaPacer(perMinute, clock.now, burst);
  const random = seededRandom(seed);
  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    const r = saturated ? 1 : random();
    if (r < 0.3) clock.advance(Math.floor(random() * 5_000));
    else if (r < 0.32) clock.advance(60_000 + Math.floor(random() * 60_000));
    for (let wait = pacer.delay(); wait > 0; wait = pacer.delay()) clock.advance(wait);
    expect(await pacer.take()).toBe(0);
    times.push(clock.now());
    if (!saturated && random() < 0.02) pacer.penalize(Math.floor(random() * 20_000));
  }
  return times;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('QuotaPacer', () => {
  it('never lets more than perMinute calls into any 60 s window', async () => {
    for (const [perMinute, seed] of [
      [60, 1],
      [60, 2],
      [7, 3],
      [100, 4],
      [300, 5],
    ] as const) {
      const times = await simulate(perMinute, 2_000, seed);
      expect(times).toHaveLength(2_000);
      const peak = peakInWindow(times, 60_000);
      expect(peak, `perMinute ${perMinute}`).toBeLessThanOrEqual(perMinute);
    }
  });

  it('lets a queue of calls use all but a call or two a minute of the quota, minute after minute', async () => {
    for (const perMinute of [60, 7, 100, 300]) {
      const times = await simulate(perMinute, perMinute * 5, 0, undefined, true);
      expect(peakInWindow(times, 60_000), `perMinute ${perMinute}`).toBeGreaterThanOrEqual(perMinute - 2);
      expect(peakInWindow(times, 60_000), `perMinute ${perMinute}`).toBeLessThanOrEqual(perMinute);
      const first = times[0] ?? 0;
      const inFirstFiveMinutes = times.filter((t) => t - first < 5 * 60_000).length;
      expect(inFirstFiveMinutes, `perMinute ${perMinute}`).toBeGreaterThanOrEqual((perMinute - 2) * 5);
    }
  });

  it('lets at most the burst go at once, then one call per interval', async () => {
    const times = await simulate(60, 1_000, 7);
    const pacer = new QuotaPacer(60);
    // A window one interval short of (burst) intervals never holds more than the burst.
    expect(peakInWindow(times, pacer.intervalMs)).toBeLessThanOrEqual(pacer.burst);
    expect(peakInWindow(times, 1)).toBeLessThanOrEqual(pacer.burst);
  });

  it('holds the quota with a small custom burst as well', async () => {
    const times = await simulate(60, 500, 9, 3);
    expect(peakInWindow(times, 60_000)).toBeLessThanOrEqual(60);
    expect(peakInWindow(times, 1)).toBeLessThanOrEqual(3);
  });

  it('spreads a minute of calls out: a burst of 2, then about one a second', () => {
    const pacer = new QuotaPacer(60, manualClock().now);
    expect(pacer.burst).toBe(2);
    expect(pacer.intervalMs).toBe(Math.ceil(60_000 / 59));
  });

  it('limits the burst to the quota when the quota is smaller', () => {
    const pacer = new QuotaPacer(1, manualClock().now, 5);
    expect(pacer.burst).toBe(1);
    expect(pacer.intervalMs).toBe(60_000);
  });

  it('says 0 while the burst lasts, then how long until the next interval', async () => {
    const clock = manualClock();
    const pacer = new QuotaPacer(60, clock.now);
    for (let i = 0; i < pacer.burst; i++) {
      expect(pacer.delay()).toBe(0);
      await pacer.take();
    }
    expect(pacer.delay()).toBe(pacer.intervalMs);
    clock.advance(pacer.intervalMs - 1);
    expect(pacer.delay()).toBe(1);
    clock.advance(1);
    expect(pacer.delay()).toBe(0);
  });

  it('keeps slots in reserve when asked: delay(1) waits while only one slot is left', async () => {
    const clock = manualClock();
    const pacer = new QuotaPacer(60, clock.now);
    await pacer.take();
    expect(pacer.delay(1)).toBe(pacer.intervalMs);
    expect(pacer.delay()).toBe(0);
    clock.advance(pacer.intervalMs);
    expect(pacer.delay(1)).toBe(0);
  });

  it('does not count delay() as a call', () => {
    const pacer = new QuotaPacer(1, manualClock().now);
    for (let i = 0; i < 5; i++) expect(pacer.delay()).toBe(0);
  });

  it('pushes the next slot back by the penalty', () => {
    const clock = manualClock();
    const pacer = new QuotaPacer(60, clock.now);
    expect(pacer.delay()).toBe(0);
    pacer.penalize(5_000);
    expect(pacer.delay()).toBe(5_000);
    clock.advance(4_000);
    expect(pacer.delay()).toBe(1_000);
    clock.advance(1_000);
    expect(pacer.delay()).toBe(0);
  });

  it('does not shorten a wait that is already longer than the penalty', async () => {
    const clock = manualClock();
    const pacer = new QuotaPacer(60, clock.now);
    for (let i = 0; i < pacer.burst; i++) await pacer.take();
    expect(pacer.delay()).toBe(pacer.intervalMs);
    pacer.penalize(100);
    expect(pacer.delay()).toBe(pacer.intervalMs);
  });

  it('waits in take() until a slot is free and reports how long it waited', async () => {
    vi.useFakeTimers();
    const pacer = new QuotaPacer(60, () => Date.now());
    for (let i = 0; i < pacer.burst; i++) expect(await pacer.take()).toBe(0);
    let waited: number | undefined;
    const sixth = pacer.take().then((ms) => {
      waited = ms;
    });
    await vi.advanceTimersByTimeAsync(pacer.intervalMs - 1);
    expect(waited).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    await sixth;
    expect(waited).toBe(pacer.intervalMs);
  });

  it('stops waiting in take() when the signal aborts', async () => {
    vi.useFakeTimers();
    const pacer = new QuotaPacer(1, () => Date.now());
    await pacer.take();
    const controller = new AbortController();
    const taking = pacer.take(controller.signal);
    controller.abort(new Error('interrupted'));
    await expect(taking).rejects.toThrow('interrupted');
    expect(pacer.delay()).toBeGreaterThan(0);
  });

  it('rejects a quota below 1, naming perMinute', () => {
    expect(() => new QuotaPacer(0)).toThrow(/perMinute must be a number ≥ 1, got 0/);
    expect(() => new QuotaPacer(Number.NaN)).toThrow(RangeError);
  });
});

describe('PacerRegistry (one pacer per service account and project, for the whole process)', () => {
  it("keeps watch and serve sharing one service account within Google's per-user and per-project quotas, counted by the emulator over sliding 60 s windows", async () => {
    const clock = manualClock();
    const registry = new PacerRegistry(clock.now);
    // The emulator's quota, on the same virtual clock: 60 per user, 300 per project (Google's defaults).
    const emulator = new SheetsQuota(60, PROJECT_QUOTA_PER_MINUTE);
    const owner = (account: string) => ({ account, project: 'p-1', apiRoot: 'http://127.0.0.1:1/', readsPerMinute: 60, writesPerMinute: 60 });
    // watch and serve run as one process with one account; a third command uses another account of the project.
    const commands = [owner('bot@p-1.iam'), owner('bot@p-1.iam'), owner('other@p-1.iam')];
    const random = seededRandom(11);
    const times = new Map<string, number[]>();
    const all: number[] = [];
    for (let i = 0; i < 1_500; i++) {
      const command = commands[Math.floor(random() * commands.length)] ?? commands[0];
      if (!command) throw new Error('no command');
      // Each call gets its client from the factory, as each command and target does.
      const pacer = registry.forAccount(command).reads;
      if (random() < 0.2) clock.advance(Math.floor(random() * 3_000));
      for (let wait = pacer.delay(); wait > 0; wait = pacer.delay()) clock.advance(wait);
      await pacer.take();
      expect(emulator.tryTake(clock.now(), command.account), `call ${i}`).toBeUndefined();
      pushTo(times, command.account, clock.now());
      all.push(clock.now());
    }
    for (const [account, list] of times) expect(peakInWindow(list, 60_000), account).toBeLessThanOrEqual(60);
    // Two accounts: never more than their two quotas together (the project's own bound is the next test's).
    expect(peakInWindow(all, 60_000)).toBeLessThanOrEqual(2 * 60);
  });

  it("keeps six busy service accounts of one project within the project's 300 a minute, though each alone may do 60", async () => {
    const clock = manualClock();
    const registry = new PacerRegistry(clock.now);
    const emulator = new SheetsQuota(60, 300);
    const owners = Array.from({ length: 6 }, (_, i) => ({ account: `bot-${i}@p-2.iam`, project: 'p-2', readsPerMinute: 60, writesPerMinute: 60 }));
    const all: number[] = [];
    for (let i = 0; i < 2_000; i++) {
      // Every account always has a call waiting: the next to go is whichever its pacers let go first.
      const next = owners.map((o) => ({ o, wait: registry.forAccount(o).writes.delay() })).toSorted((a, b) => a.wait - b.wait)[0];
      if (!next) throw new Error('no owner');
      clock.advance(next.wait);
      await registry.forAccount(next.o).writes.take();
      expect(emulator.tryTake(clock.now(), next.o.account), `call ${i}`).toBeUndefined();
      all.push(clock.now());
    }
    expect(peakInWindow(all, 60_000)).toBeLessThanOrEqual(300);
    // And the project's quota is used, not wasted: about 300 a minute.
    expect(all.length / (((all.at(-1) ?? 0) - (all[0] ?? 0)) / 60_000)).toBeGreaterThan(290);
  });

  it('gives another endpoint, or a config stating other quotas, pacers of their own', () => {
    const registry = new PacerRegistry();
    const owner = { account: 'bot@p.iam', project: 'p', apiRoot: undefined, readsPerMinute: 60, writesPerMinute: 60 };
    expect(registry.forAccount(owner).reads).toBe(registry.forAccount({ ...owner }).reads);
    expect(registry.forAccount({ ...owner, apiRoot: 'http://127.0.0.1:9/' }).reads).not.toBe(registry.forAccount(owner).reads);
    expect(registry.forAccount({ ...owner, readsPerMinute: 30 }).reads.perMinute).toBe(30);
  });

  it.each([
    { after: 'a quarter second', gap: 250 },
    { after: 'a moment', gap: 7 },
  ])("lets a run's last calls go without waiting an interval: after flushes that keep all but one slot of the burst, the final flush and the look each get a read and a write, within the quota (last answer $after after a flush)", async ({ gap }) => {
    const clock = manualClock();
    const registry = new PacerRegistry(clock.now);
    const emulator = { reads: new SheetsQuota(60, 300), writes: new SheetsQuota(60, 300) };
    const { reads, writes } = registry.forAccount({ account: 'bot@p-3.iam', project: 'p-3', readsPerMinute: 60, writesPerMinute: 60 });
    // The first read of the tab, then a minute of regular flushes as the writer makes them (a verify read and a write each).
    await reads.take();
    expect(emulator.reads.tryTake(clock.now(), 'bot')).toBeUndefined();
    const stop = clock.now() + 60_000;
    while (clock.now() < stop) {
      for (let wait = Math.max(reads.delay(reads.burst - 1), writes.delay(writes.burst - 1)); wait > 0; wait = Math.max(reads.delay(reads.burst - 1), writes.delay(writes.burst - 1))) clock.advance(wait);
      for (const kind of ['reads', 'writes'] as const) {
        await (kind === 'reads' ? reads : writes).take();
        expect(emulator[kind].tryTake(clock.now(), 'bot'), kind).toBeUndefined();
      }
      clock.advance(gap);
    }
    // The final flush, then the look of the columns: neither waits, for the account's next slot
    // (~1 s) nor the project's (0.2 s at 300 a minute), even right after a regular flush.
    for (let call = 0; call < 2; call++) {
      const wait = Math.max(reads.delay(), writes.delay());
      expect(wait, `call ${call}`).toBe(0);
      clock.advance(wait);
      for (const kind of ['reads', 'writes'] as const) {
        expect(await (kind === 'reads' ? reads : writes).take()).toBe(0);
        expect(emulator[kind].tryTake(clock.now(), 'bot'), `${kind} ${call}`).toBeUndefined();
      }
    }
  });
});

describe('sheets emulator quotas', () => {
  it("refuses a user's call past the user's quota, and any user's call past the project's, taking nothing when it refuses", () => {
    const quota = new SheetsQuota(2, 3);
    expect(quota.tryTake(0, 'a')).toBeUndefined();
    expect(quota.tryTake(1, 'a')).toBeUndefined();
    expect(quota.tryTake(2, 'a')).toBe('user');
    expect(quota.tryTake(3, 'b')).toBeUndefined();
    expect(quota.tryTake(4, 'c')).toBe('project');
    expect(quota.used(4)).toBe(3);
    expect(quota.used(4, 'a')).toBe(2);
    // A sliding 60 s window: the first call leaves it at 60 s.
    expect(quota.tryTake(60_000, 'c')).toBeUndefined();
  });
});
