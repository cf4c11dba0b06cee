import Database from 'better-sqlite3';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SPREADSHEET_ID, TAB, col, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';
import { virtualClock } from '../support/virtual-clock.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

function counts(b: Bed) {
  return { llm: b.llm.callCount(), reads: b.sheets.readCount(), writes: b.sheets.writeCount() };
}

describe('watch', () => {
  it('turns one ticked box into exactly one LLM call and one write, and a quiet poll into one read', async () => {
    bed = await startBed({ rows: sampleRows(6), config: { review: { recheck_column: 'Recheck' } } });
    const b = bed;
    const marks: Array<ReturnType<typeof counts>> = [];
    const clock = virtualClock('2026-11-21T09:00:00Z', (n) => {
      marks.push(counts(b));
      // After the first poll (which validates the fresh sheet), a reviewer ticks row 4's box.
      if (n === 1) b.sheets.setCell(SPREADSHEET_ID, TAB, 4, col(b.values(), 'Recheck') + 1, true);
    });
    let log = '';
    const result = await bed.cli(['watch', '--config', bed.configPath, '--every', '60s', '--polls', '3'], { clock, stderr: { write: (s: string) => (log += s) } });
    expect(result.code).toBe(0);
    const end = counts(bed);
    const [afterFirst, afterSecond] = marks;
    // Poll 2: the ticked box → one call; one read to poll, one to re-identify the row, one write.
    expect((afterSecond?.llm ?? 0) - (afterFirst?.llm ?? 0)).toBe(1);
    expect((afterSecond?.writes ?? 0) - (afterFirst?.writes ?? 0)).toBe(1);
    expect((afterSecond?.reads ?? 0) - (afterFirst?.reads ?? 0)).toBe(2);
    // Poll 3: nothing changed → one read, nothing else.
    expect(end.llm - (afterSecond?.llm ?? 0)).toBe(0);
    expect(end.writes - (afterSecond?.writes ?? 0)).toBe(0);
    expect(end.reads - (afterSecond?.reads ?? 0)).toBe(1);
    expect(bed.sheets.getCell(SPREADSHEET_ID, TAB, 4, col(bed.values(), 'Recheck') + 1)).toMatchObject({ value: false });
    expect(clock.sleeps).toEqual([60_000, 60_000]);
    expect(log.match(/\(watch\) completed/g)).toHaveLength(2);
  });

  it('rejects an interval under a second', async () => {
    bed = await startBed({ rows: sampleRows(1) });
    const result = await bed.cli(['watch', '--config', bed.configPath, '--every', '10ms']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('at least 1s');
  });
});

describe('schedule', () => {
  it('runs at each cron time in the given zone, skipping the weekend, without real waiting', async () => {
    bed = await startBed({ rows: sampleRows(3) });
    // Friday 2026-11-20, 06:59 in Moscow (UTC+3).
    const clock = virtualClock('2026-11-20T03:59:00Z');
    let log = '';
    const result = await bed.cli(['schedule', '--config', bed.configPath, '--cron', '0 7 * * 1-5', '--tz', 'Europe/Moscow', '--runs', '2'], {
      clock,
      stderr: { write: (s: string) => (log += s) },
    });
    expect(result.code).toBe(0);
    expect(log).toContain('next run at 2026-11-20T04:00:00.000Z');
    expect(log).toContain('next run at 2026-11-23T04:00:00.000Z');
    expect(log.match(/\(schedule\) completed/g)).toHaveLength(2);
    const db = new Database(path.join(bed.dir, 'cache.sqlite'), { readonly: true });
    const runs = db.prepare('SELECT trigger, started_at FROM runs ORDER BY started_at').all() as Array<{ trigger: string; started_at: string }>;
    db.close();
    expect(runs.map((r) => [r.trigger, r.started_at.slice(0, 16)])).toEqual([
      ['schedule', '2026-11-20T04:00'],
      ['schedule', '2026-11-23T04:00'],
    ]);
    expect(bed.llm.callCount()).toBe(3);
  });

  it('says what is wrong with a bad cron expression or zone, exit 2', async () => {
    bed = await startBed({ rows: sampleRows(1) });
    const bad = await bed.cli(['schedule', '--config', bed.configPath, '--cron', '0 25 * * *']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('is not a valid schedule');
    const zone = await bed.cli(['schedule', '--config', bed.configPath, '--cron', '0 7 * * *', '--tz', 'Mars/Olympus']);
    expect(zone.code).toBe(2);
    expect(zone.stderr).toContain('"Mars/Olympus" is not a time zone');
  });
});

describe('serve', () => {
  const TOKEN = 'test-token-0123456789abcdef';

  async function startServer(b: Bed) {
    const stop = new AbortController();
    let log = '';
    const done = b.cli(['serve', '--config', b.configPath, '--port', '0'], {
      stop: stop.signal,
      env: { ...b.env, STATUS_VALIDATOR_TOKEN: TOKEN },
      stderr: { write: (s: string) => (log += s) },
    });
    for (let i = 0; i < 200 && !/listening on (\S+)/.test(log); i++) await new Promise((r) => setTimeout(r, 10));
    const base = /listening on (\S+)/.exec(log)?.[1] ?? '';
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const call = (method: string, route: string, token: string | null = TOKEN) =>
      fetch(`${base}${route}`, { method, headers: token === null ? {} : { authorization: `Bearer ${token}` } });
    return { stop, done, call, log: () => log };
  }

  it('starts a run on POST /runs, answers 409 while it runs, and reports progress then the summary', async () => {
    bed = await startBed({ rows: sampleRows(8), llm: { latencyMs: 150 }, config: { llm: { max_workers: 2 } } });
    const server = await startServer(bed);
    const started = await server.call('POST', '/runs');
    expect(started.status).toBe(202);
    const { id, url } = (await started.json()) as { id: string; url: string };
    expect(url).toBe(`/runs/${id}`);
    expect((await server.call('POST', '/runs')).status).toBe(409);

    let view: { status: string; summary: { verdicts: { valid: number; invalid: number } } | null } = { status: 'running', summary: null };
    for (let i = 0; i < 300 && view.status === 'running'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      view = (await (await server.call('GET', url)).json()) as typeof view;
    }
    expect(view.status).toBe('finished');
    expect((view.summary?.verdicts.valid ?? 0) + (view.summary?.verdicts.invalid ?? 0)).toBe(8);
    expect(bed.llm.callCount()).toBe(8);

    server.stop.abort();
    expect((await server.done).code).toBe(0);
  });

  it('refuses calls without the right bearer token, but answers /health', async () => {
    bed = await startBed({ rows: sampleRows(1) });
    const server = await startServer(bed);
    expect((await server.call('POST', '/runs', null)).status).toBe(401);
    expect((await server.call('POST', '/runs', 'wrong-token-0123456789')).status).toBe(401);
    expect((await server.call('GET', '/health', null)).status).toBe(200);
    expect(bed.llm.callCount()).toBe(0);
    server.stop.abort();
    await server.done;
    expect(server.log()).not.toContain(TOKEN);
  });

  it('will not start without a token of at least 16 characters', async () => {
    bed = await startBed({ rows: sampleRows(1) });
    const result = await bed.cli(['serve', '--config', bed.configPath, '--port', '0'], { env: { ...bed.env, STATUS_VALIDATOR_TOKEN: 'short' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('STATUS_VALIDATOR_TOKEN');
  });
});
