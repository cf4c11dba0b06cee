/**
 * Issue 14, item 2: `schedule` and `watch` over every target of one config, through the
 * CLI against the emulators: one provider gate for the command's life, a line per
 * target and a total, only the targets with work run, one failing stops no other.
 */
import { hostname } from 'node:os';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { HEADER, SPREADSHEET_ID, TAB, col, startBed, type Bed } from '../support/bed.js';
import { insertLock, liveStranger, runRows } from '../support/inspect.js';
import { targetRows } from '../support/sample-data.js';
import { virtualClock } from '../support/virtual-clock.js';

const TEAM_B = 'Team B';
const OTHER_BOOK = 'sheet-e2e-2';

let bed: Bed | undefined;
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await bed?.close();
  bed = undefined;
});

/** Two targets in one spreadsheet: "programme-a" (tab Statuses) and "team-b" (tab Team B). */
async function twoTargets(a: number, b: number, extra: { llm?: { latencyMs: number }; workers?: number } = {}): Promise<Bed> {
  const made = await startBed({
    rows: targetRows('A', a, 0),
    moreTabs: [{ title: TEAM_B, rows: [HEADER, ...targetRows('B', b, 20)] }],
    ...(extra.llm ? { llm: extra.llm } : {}),
    config: { llm: { max_workers: extra.workers ?? 5 }, sheets: { read_quota_per_minute: 100_000, write_quota_per_minute: 100_000 } },
  });
  made.setConfig({ targets: [{ name: 'programme-a', sheet: TAB }, { name: 'team-b', sheet: TEAM_B }] });
  return made;
}

const counts = (b: Bed) => ({ llm: b.llm.callCount(), reads: b.sheets.readCount(), writes: b.sheets.writeCount() });
const cacheOf = (b: Bed) => String((b.config.cache as { path: string }).path);
const edit = (b: Bed, tab: string, row: number, text: string) => b.sheets.setCell(SPREADSHEET_ID, tab, row, col(b.sheets.values(SPREADSHEET_ID, tab), 'Comment') + 1, text);

describe('schedule over the targets of a config', () => {
  it('runs both targets at each time through one gate (peak in flight ≤ max_workers), a line per target and a total; a held lock skips only its target', async () => {
    bed = await twoTargets(12, 9, { llm: { latencyMs: 80 }, workers: 3 });
    const b = bed;
    const stranger = await liveStranger(cleanups);
    const peaks: number[] = [];
    const clock = virtualClock('2026-11-20T06:59:00Z', (n) => {
      // Before time 2: a row edited in each tab, and another process holds team-b's lock.
      if (n === 2) {
        peaks.push(b.llm.peakInFlight);
        edit(b, TAB, 3, 'Edited before the second run: the pilot ended, rollout starts Monday (ref A-2).');
        edit(b, TEAM_B, 4, 'Edited before the second run: vendor signed, kickoff on Tuesday (ref B-3).');
        const at = new Date(Date.parse('2026-11-21T06:59:00Z')).toISOString();
        insertLock(cacheOf(b), { name: `${SPREADSHEET_ID}/${TEAM_B.toLowerCase()}`, run_id: 'run-elsewhere', pid: stranger, host: hostname(), started_at: at, heartbeat_at: at });
      }
      // Before time 3: that run has ended; team-b's edit is picked up now.
      if (n === 3) {
        const db = new Database(cacheOf(b));
        db.prepare('DELETE FROM locks WHERE run_id = ?').run('run-elsewhere');
        db.close();
      }
    });
    let log = '';
    const result = await b.cli(['schedule', '--config', b.configPath, '--cron', '0 7 * * *', '--tz', 'UTC', '--runs', '3'], { clock, stderr: { write: (s: string) => (log += s) } });
    expect(result.code, log).toBe(0);
    // Time 1: 21 rows of two targets, never more than 3 calls at once between them.
    expect(peaks[0]).toBeLessThanOrEqual(3);
    expect(peaks[0]).toBeGreaterThanOrEqual(2);
    expect(log).toContain('scheduling 2 targets: programme-a, team-b');
    expect(log.match(/\[programme-a\] run \w+ \(schedule\) completed/g)).toHaveLength(3);
    expect(log.match(/\[team-b\] run \w+ \(schedule\) completed/g)).toHaveLength(2);
    expect(log).toMatch(/\[team-b\] skipped \(lock held; the other targets ran\): Another run is already working on "Team B" in sheet-e2e-1/);
    expect(log).toMatch(/total \(2 targets, 1 skipped \(lock held\)\): 12 rows, 1 asked/);
    expect(log.match(/total \(2 targets/g)).toHaveLength(3);
    // 21 first, then programme-a's edit, then team-b's once its lock was free.
    expect(b.llm.callCount()).toBe(21 + 1 + 1);
    const runs = runRows(cacheOf(b));
    expect(runs.map((r) => [r.trigger, r.started_at.slice(0, 10)])).toEqual([
      ['schedule', '2026-11-20'],
      ['schedule', '2026-11-20'],
      ['schedule', '2026-11-21'],
      ['schedule', '2026-11-22'],
      ['schedule', '2026-11-22'],
    ]);
  });

  it('runs only the target --target names', async () => {
    bed = await twoTargets(4, 3);
    const clock = virtualClock('2026-11-20T06:59:00Z');
    let log = '';
    const result = await bed.cli(['schedule', '--config', bed.configPath, '--target', 'team-b', '--cron', '0 7 * * *', '--tz', 'UTC', '--runs', '1'], { clock, stderr: { write: (s: string) => (log += s) } });
    expect(result.code, log).toBe(0);
    expect(bed.llm.callCount()).toBe(3);
    expect(log).toContain('[team-b] run');
    expect(log).not.toContain('[programme-a]');
  });
});

describe('watch over the targets of a config', () => {
  it('reads each target once a poll and runs only the one whose row changed', async () => {
    bed = await twoTargets(5, 4);
    const b = bed;
    const marks: Array<ReturnType<typeof counts>> = [];
    const clock = virtualClock('2026-11-21T09:00:00Z', (n) => {
      marks.push(counts(b));
      if (n === 1) edit(b, TEAM_B, 3, 'Edited while watched: migration done, switch-over on Friday (ref B-2).');
    });
    let log = '';
    const result = await b.cli(['watch', '--config', b.configPath, '--every', '60s', '--polls', '3'], { clock, stderr: { write: (s: string) => (log += s) } });
    expect(result.code, log).toBe(0);
    const [afterFirst, afterSecond] = marks;
    const end = counts(b);
    // Poll 1: both targets are new: 9 calls.
    expect(afterFirst?.llm).toBe(9);
    // Poll 2: one read per target, one more for team-b's run to re-identify its row before writing; one call, one write.
    expect((afterSecond?.llm ?? 0) - (afterFirst?.llm ?? 0)).toBe(1);
    expect((afterSecond?.reads ?? 0) - (afterFirst?.reads ?? 0)).toBe(2 + 1);
    expect((afterSecond?.writes ?? 0) - (afterFirst?.writes ?? 0)).toBe(1);
    // Poll 3: quiet: one read per target, nothing else.
    expect(end.llm - (afterSecond?.llm ?? 0)).toBe(0);
    expect(end.reads - (afterSecond?.reads ?? 0)).toBe(2);
    expect(end.writes - (afterSecond?.writes ?? 0)).toBe(0);
    expect(log.match(/\[team-b\] run \w+ \(watch\) completed/g)).toHaveLength(2);
    expect(log.match(/\[programme-a\] run \w+ \(watch\) completed/g)).toHaveLength(1);
    expect(log.match(/total \(1 target\): 4 rows, 1 asked/g)).toHaveLength(1);
  });

  it('logs a target that cannot be read once, polls it again every time, watches the others on, and picks it up when it is shared again', async () => {
    bed = await twoTargets(3, 2);
    const b = bed;
    b.sheets.addSpreadsheet(OTHER_BOOK, [{ title: 'Elsewhere', rows: [HEADER, ...targetRows('C', 2, 40)] }]);
    b.setConfig({ targets: [{ name: 'programme-a', sheet: TAB }, { name: 'team-b', sheet: TEAM_B }, { name: 'locked-out', spreadsheet_id: OTHER_BOOK, sheet: 'Elsewhere' }] });
    b.sheets.setForbidden(OTHER_BOOK, true);
    const clock = virtualClock('2026-11-21T09:00:00Z', (n) => {
      if (n === 2) b.sheets.setForbidden(OTHER_BOOK, false);
    });
    let log = '';
    const result = await b.cli(['watch', '--config', b.configPath, '--every', '60s', '--polls', '4'], { clock, stderr: { write: (s: string) => (log += s) } });
    expect(result.code, log).toBe(0);
    // Told once, with the reason, although polled twice while forbidden.
    expect(log.match(/\[locked-out\] FAILING: cannot be read: .*permission/gi)).toHaveLength(1);
    expect(log).toContain('[locked-out] recovered');
    expect(log.match(/\[locked-out\] run \w+ \(watch\) completed/g)).toHaveLength(1);
    expect(b.sheets.values(OTHER_BOOK, 'Elsewhere')[0]).toContain('Validation');
    expect(b.llm.callCount()).toBe(3 + 2 + 2);
  });

  it('stops (exit 1) only when every target is failing, saying so', async () => {
    bed = await twoTargets(2, 2);
    const b = bed;
    b.sheets.addSpreadsheet(OTHER_BOOK, [{ title: 'Elsewhere', rows: [HEADER] }]);
    b.setConfig({ targets: [{ name: 'gone', sheet: 'No such tab' }, { name: 'locked-out', spreadsheet_id: OTHER_BOOK, sheet: 'Elsewhere' }] });
    b.sheets.setForbidden(OTHER_BOOK, true);
    let log = '';
    const result = await b.cli(['watch', '--config', b.configPath, '--every', '60s', '--polls', '5'], { clock: virtualClock('2026-11-21T09:00:00Z'), stderr: { write: (s: string) => (log += s) } });
    expect(result.code, log).toBe(1);
    expect(log).toMatch(/\[gone\] FAILING: cannot be read: /);
    expect(log).toMatch(/\[locked-out\] FAILING: cannot be read: /);
    expect(log).toContain('every target is failing; stopping the watch');
    expect(b.llm.callCount()).toBe(0);
  });
});
