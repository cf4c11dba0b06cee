/**
 * Issue 11, item 1: locks that heal. A holder is its host, pid and process start; a
 * recycled pid (pid 1 of a restarted container) is another process; a lost lock stops
 * the run; the lock is freed on every exit path.
 */
import { spawn, spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/cache/index.js';
import { ownStart } from '../../src/cache/process-start.js';
import type { Clock } from '../../src/commands/context.js';
import { SPREADSHEET_ID, TAB, col, startBed, type Bed } from '../support/bed.js';
import { REPO_ROOT, insertLock, liveStranger, lockRows, runRows, waitFor, type LockRow } from '../support/inspect.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await bed?.close();
  bed = undefined;
});

const cacheOf = (b: Bed) => String((b.config.cache as { path: string }).path);
const lockName = `${SPREADSHEET_ID}/${TAB.toLowerCase()}`;
const secondsAgo = (s: number) => new Date(Date.now() - s * 1000).toISOString();

/** The start a process that had this pid before this one would have left: a tick earlier (Linux), or long ago (ps). */
function anEarlierStart(): string {
  const own = ownStart();
  if (own.kind !== 'known') throw new Error('this machine cannot tell when a process started (no /proc, no ps)');
  return own.start.startsWith('linux:') ? own.start.replace(/:(\d+)$/, (_m, ticks: string) => `:${Number(ticks) - 1}`) : 'ps:Thu Jan  1 00:00:00 1970';
}

/** Whether this machine lets us start a process as pid 1 of a new pid namespace (root and util-linux unshare). */
const canUnshare = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child=SIGKILL', 'sh', '-c', 'test $$ = 1'], { stdio: 'ignore' }).status === 0;

/** `status-validator run` as pid 1 of a fresh pid namespace: a container's entrypoint, same hostname. */
function runAsPid1(b: Bed): { exited: Promise<number | null>; kill: () => void; stderr: () => string } {
  const child = spawn('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child=SIGKILL', process.execPath, '--import', 'tsx', 'src/cli/index.ts', 'run', '--config', b.configPath], {
    cwd: REPO_ROOT,
    env: { ...b.env, PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  cleanups.push(async () => {
    child.kill('SIGKILL');
    await exited;
  });
  return { exited, kill: () => child.kill('SIGKILL'), stderr: () => err };
}

describe('a lock left by a process with our host and pid but another start time', () => {
  it('is taken over at once: pid 1 of a restarted container', { timeout: 60_000 }, async () => {
    bed = await startBed({ rows: sampleRows(12), llm: { latencyMs: 60_000 }, config: { llm: { max_workers: 2 } } });
    const b = bed;
    if (canUnshare) {
      // The real thing: the first "container" dies (OOM kill) mid-run as pid 1, holding the lock...
      const first = runAsPid1(b);
      await waitFor('the first call of the killed run', () => b.llm.callCount() >= 1, 30_000).catch((error: unknown) => {
        throw new Error(`${String(error)}\n${first.stderr()}`);
      });
      expect(lockRows(cacheOf(b)).map((l) => [l.pid, l.host])).toEqual([[1, hostname()]]);
      first.kill();
      await first.exited;
      expect(lockRows(cacheOf(b)).map((l) => l.pid)).toEqual([1]);
      // ...and the restarted one, pid 1 again on the same host, with a heartbeat seconds old.
      b.llm.setLatency(0);
      const second = runAsPid1(b);
      expect(await second.exited, second.stderr()).toBe(0);
      expect(second.stderr()).not.toContain('Another run is already working');
    } else {
      // No pid namespaces here (not root, or no unshare): the row a dead pid-1 holder leaves, as it
      // would look to this process, whose pid it names.
      b.llm.setLatency(0);
      await SqliteStore.open(cacheOf(b)).close();
      insertLock(cacheOf(b), { name: lockName, run_id: 'run-before-restart', pid: process.pid, host: hostname(), process_start: anEarlierStart(), started_at: secondsAgo(20), heartbeat_at: secondsAgo(5) });
      const result = await b.run();
      expect(result.code, result.stderr).toBe(0);
    }
    const values = b.values();
    expect(values.slice(1).every((row) => ['VALID', 'INVALID'].includes(row[col(values, 'Validation')] ?? ''))).toBe(true);
    expect(lockRows(cacheOf(b))).toEqual([]);
    // The dead run is recorded as killed, not left "running" for ever.
    expect(runRows(cacheOf(b)).filter((r) => r.status === 'running')).toEqual([]);
  });

  it('is taken over at once when fabricated with this process pid and host and a heartbeat seconds old', async () => {
    bed = await startBed({ rows: sampleRows(3) });
    const b = bed;
    await SqliteStore.open(cacheOf(b)).close();
    const lock: LockRow = { name: lockName, run_id: 'run-before-restart', pid: process.pid, host: hostname(), process_start: anEarlierStart(), started_at: secondsAgo(20), heartbeat_at: secondsAgo(5) };
    insertLock(cacheOf(b), lock);
    const result = await b.run('--json');
    expect(result.code, result.stderr).toBe(0);
    expect(b.llm.callCount()).toBe(3);
    const summary = JSON.parse(result.stdout) as { warnings: string[] };
    expect(summary.warnings).toEqual([expect.stringContaining(`took over the lock of run run-before-restart (pid ${process.pid} on ${hostname()}`)]);
    expect(lockRows(cacheOf(b))).toEqual([]);
  });
});

describe('a lock whose heartbeat is stale', () => {
  it('is taken over even when a live process on this host has its pid', async () => {
    bed = await startBed({ rows: sampleRows(3) });
    const b = bed;
    await SqliteStore.open(cacheOf(b)).close();
    const strangerPid = await liveStranger(cleanups);
    // A frozen holder (a suspended VM, a stopped container): alive, but silent for three minutes.
    insertLock(cacheOf(b), { name: lockName, run_id: 'run-frozen', pid: strangerPid, host: hostname(), started_at: secondsAgo(600), heartbeat_at: secondsAgo(180) });
    const result = await b.run();
    expect(result.code, result.stderr).toBe(0);
    expect(b.llm.callCount()).toBe(3);
    expect(lockRows(cacheOf(b))).toEqual([]);
  });
});

describe('a run whose lock is taken over', () => {
  it('notices at its next heartbeat: asks nothing more, writes what it has, says so and exits non-zero', async () => {
    bed = await startBed({ rows: sampleRows(20), llm: { latencyMs: 300 }, config: { llm: { max_workers: 2 } } });
    const b = bed;
    let beat: (() => void) | undefined;
    const clock: Clock = {
      now: () => new Date(),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      every: (_ms, tick) => {
        beat = tick;
        return () => (beat = undefined);
      },
    };
    const running = b.cli(['run', '--config', b.configPath], { clock });
    // The probe (no rate limit known yet) was answered, then both workers' calls are in
    // flight; the next can only start once one of them is answered.
    await b.llm.waitForCalls(3);
    // Another host judged this run dead and took the sheet.
    insertLock(cacheOf(b), { name: lockName, run_id: 'run-thief', pid: 4242, host: 'another-host.example', started_at: secondsAgo(0), heartbeat_at: secondsAgo(0) });
    const callsAtTheft = b.llm.callCount();
    expect(beat).toBeDefined();
    beat?.();
    const result = await running;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`lost its lock on "${TAB}" in ${SPREADSHEET_ID}: run run-thief (pid 4242 on another-host.example) took it over`);
    expect(b.llm.callCount()).toBe(callsAtTheft);
    // The answers already on their way are saved and written; the thief's lock is left alone.
    const values = b.values();
    const written = values.slice(1).filter((row) => ['VALID', 'INVALID'].includes(row[col(values, 'Validation')] ?? ''));
    expect(written).toHaveLength(callsAtTheft);
    expect(lockRows(cacheOf(b)).map((l) => l.run_id)).toEqual(['run-thief']);
  });
});

describe('the lock is released on every exit path', () => {
  it('even when recording the run end fails: schedule goes on with its next run instead of locking itself out', async () => {
    bed = await startBed({ rows: sampleRows(3) });
    const b = bed;
    await b.run();
    // The disk refuses the run's last write (as a full or failing disk would).
    const db = new Database(cacheOf(b));
    db.exec(`CREATE TRIGGER refuse_run_end BEFORE UPDATE OF ended_at ON runs WHEN NEW.status <> 'killed' BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END;`);
    db.close();
    let now = Date.parse('2026-11-20T06:59:00Z');
    let sleeps = 0;
    const clock: Clock = {
      now: () => new Date(now),
      sleep: (ms) => {
        // Between the two runs a person edits a row: the second run has work.
        if (++sleeps === 2) b.sheets.setCell(SPREADSHEET_ID, TAB, 2, 3, 'Edited between two scheduled runs: the pilot ended, rollout starts Monday.');
        now += ms;
        return Promise.resolve();
      },
    };
    let log = '';
    const result = await b.cli(['schedule', '--config', b.configPath, '--cron', '0 7 * * *', '--tz', 'UTC', '--runs', '2'], { clock, stderr: { write: (s: string) => (log += s) } });
    expect(result.code, log).toBe(0);
    expect(log).not.toContain('skipped');
    expect(log.match(/\(schedule\) completed/g)).toHaveLength(2);
    expect(b.llm.callCount()).toBe(3 + 1);
    expect(lockRows(cacheOf(b))).toEqual([]);
  });
});
