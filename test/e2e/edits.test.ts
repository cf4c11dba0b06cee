/**
 * Issue 4, items 3 and 4: people edit the sheet while a run is writing to it, and runs
 * overlap or die holding the lock.
 */
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { col, HEADER, OUTPUT_HEADERS, SPREADSHEET_ID, startBed, TAB, type Bed } from '../support/bed.js';
import { deadPid, expectedCells, insertLock, insertSighting, lockRows, spawnRun, waitFor, waitForChild, type Child, type LockRow } from '../support/inspect.js';
import type { Cell } from '../support/sheets-emulator/index.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await bed?.close();
  bed = undefined;
});

const FAST_SHEETS = { read_quota_per_minute: 6000, write_quota_per_minute: 6000 };

/**
 * 0 verdicts on a wrong row: every row that shows anything in its output cells shows the
 * verdict and rewrite computed for its own inputs (the emulator's model echoes the comment).
 * Returns the ids of the rows that show a verdict.
 */
function expectNoVerdictOnAWrongRow(values: string[][]): string[] {
  const [verdictCol, issuesCol, suggestionCol] = ['Validation', 'Issues', 'Suggested rewrite'].map((h) => col(values, h));
  const shown: string[] = [];
  values.slice(1).forEach((row, i) => {
    const verdict = row[verdictCol ?? -1] ?? '';
    const suggestion = row[suggestionCol ?? -1] ?? '';
    if (verdict === '' && suggestion === '' && (row[issuesCol ?? -1] ?? '') === '') return;
    expect({ verdict, suggestion }, `row ${i + 2} (${row[0]})`).toEqual(expectedCells(row));
    shown.push(row[0] ?? '');
  });
  return shown;
}

describe('concurrent edits (invariant 1)', () => {
  it('writes no verdict on a wrong row when, during one run, rows are inserted above, one is deleted, all are sorted and a comment is edited', async () => {
    const rows = sampleRows(40);
    bed = await startBed({
      rows,
      header: [...HEADER, ...OUTPUT_HEADERS],
      llm: { latencyMs: 5 },
      config: { llm: { max_workers: 2 }, output: { write_batch_size: 4 }, sheets: FAST_SHEETS },
    });
    const b = bed;
    const inserted: Cell[][] = [
      ['NEW-1', 'Planned', 'Inserted above during the run: kickoff booked for Monday, plan due on Friday.', '2026-12-01'],
      ['NEW-2', 'Done', 'Inserted above during the run: the audit report was sent; nothing further planned.', '2026-12-02'],
      ['NEW-3', 'In progress', 'TBD', '2026-12-03'],
    ];
    const editedComment = 'Edited by a person during the run: cut-over moved to next Friday after the load test.';
    let deleted: string[] = [];
    let edited: { id: string; oldComment: string } | undefined;

    /** A data row that shows no verdict yet, taken from the bottom: its answer is still to be written. */
    const unwrittenRow = (skip: string[] = []) => {
      const values = b.values();
      const verdictCol = col(values, 'Validation');
      for (let i = values.length - 1; i >= 1; i--) {
        const row = values[i] ?? [];
        if (row[0]?.startsWith('PRJ-') && (row[verdictCol] ?? '') === '' && !skip.includes(row[0])) return { number: i + 1, row };
      }
      throw new Error('no unwritten row left');
    };
    // Each edit lands just before a verify read (the bot re-reads rows before each write), once per write so far.
    const edits: Array<() => void> = [
      () => b.sheets.insertRows(SPREADSHEET_ID, TAB, 2, inserted),
      () => {
        const { number, row } = unwrittenRow();
        deleted = row.slice(0, 4);
        b.sheets.deleteRows(SPREADSHEET_ID, TAB, number, 1);
      },
      () => b.sheets.sortRows(SPREADSHEET_ID, TAB, 2, (x, y) => String(y[0]).localeCompare(String(x[0]))),
      () => {
        const { number, row } = unwrittenRow();
        edited = { id: row[0] ?? '', oldComment: row[2] ?? '' };
        b.sheets.setCell(SPREADSHEET_ID, TAB, number, 3, editedComment);
      },
    ];
    let reads = 0;
    let writes = 0;
    let step = 0;
    b.sheets.onRequest((call) => {
      if (call.op === 'values.batchUpdate') writes++;
      if (call.kind !== 'read' || reads++ === 0 || step >= edits.length || writes < step) return;
      edits[step++]?.();
    });

    const first = await b.run('--json');
    expect(first.code, first.stderr).toBe(0);
    expect(step).toBe(edits.length);
    expect(b.sheets.hookErrors).toEqual([]);
    const values = b.values();
    const shown = expectNoVerdictOnAWrongRow(values);

    // The deleted row is gone, and nothing was written in its place.
    expect(values.some((row) => row[2] === deleted[2])).toBe(false);
    // The edited row is left for the next run, never written with its old verdict.
    const editedRow = values.find((row) => row[0] === edited?.id) ?? [];
    expect(editedRow[2]).toBe(editedComment);
    expect(editedRow[col(values, 'Suggested rewrite')] ?? '').not.toBe(`Rewrite: ${edited?.oldComment ?? ''}`);
    // Every other row that was read moved (rows inserted above, then a sort) and got its verdict where it is now.
    const expectedShown = rows.map((r) => r[0] ?? '').filter((id) => id !== deleted[0] && id !== edited?.id);
    expect(shown.filter((id) => id.startsWith('PRJ-')).sort()).toEqual(expectedShown.sort());
    // Rows inserted during the run were not read by it: nothing written there yet.
    expect(shown.filter((id) => id.startsWith('NEW-'))).toEqual([]);
    const summary = JSON.parse(first.stdout) as { writes: { rowsMoved: number; skipped: Array<{ id: string }> } };
    expect(summary.writes.rowsMoved).toBeGreaterThan(0);
    expect(summary.writes.skipped.map((s) => s.id).sort()).toEqual([deleted[0], edited?.id].sort());
    // The bot only ever wrote output columns (E:I), never an input cell.
    for (const call of b.sheets.calls.filter((c) => c.op === 'values.batchUpdate')) {
      for (const range of call.ranges ?? []) expect(range).toMatch(/^'Statuses'!E\d+:I\d+$/);
    }

    // The next run does the edited row and the inserted ones, and only those.
    const calls = b.llm.callCount();
    const second = await b.run();
    expect(second.code).toBe(0);
    expect(b.llm.callCount() - calls).toBe(inserted.length + 1);
    const after = b.values();
    expect(expectNoVerdictOnAWrongRow(after)).toHaveLength(40 - 1 + inserted.length);
    expect(after.find((row) => row[0] === edited?.id)?.[col(after, 'Suggested rewrite')]).toBe(`Rewrite: ${editedComment}`);
  });

  it('writes each verdict where its row is now when rows are inserted above during the run', async () => {
    bed = await startBed({ rows: sampleRows(20), header: [...HEADER, ...OUTPUT_HEADERS], llm: { latencyMs: 5 }, config: { llm: { max_workers: 2 }, output: { write_batch_size: 5 }, sheets: FAST_SHEETS } });
    const b = bed;
    let reads = 0;
    b.sheets.onRequest((call) => {
      // Before the second verify read: 5 rows are written at the old positions, 15 are still to come.
      if (call.kind === 'read' && ++reads === 3) b.sheets.insertRows(SPREADSHEET_ID, TAB, 2, [['NEW-1', 'Planned', 'An inserted row that this run never read.', '']]);
    });
    const result = await b.run('--json');
    expect(result.code).toBe(0);
    const values = b.values();
    expect(values[1]?.[0]).toBe('NEW-1');
    expect(expectNoVerdictOnAWrongRow(values).sort()).toEqual(sampleRows(20).map((r) => r[0]).sort());
  });

  it('skips the write of a row deleted during the run and writes all the others where they now are', async () => {
    bed = await startBed({ rows: sampleRows(20), header: [...HEADER, ...OUTPUT_HEADERS], llm: { latencyMs: 5 }, config: { llm: { max_workers: 1 }, output: { write_batch_size: 5 }, sheets: FAST_SHEETS } });
    const b = bed;
    let reads = 0;
    b.sheets.onRequest((call) => {
      // Row 14 (PRJ-0013) is not written yet at the second verify read: delete it; rows below move up.
      if (call.kind === 'read' && ++reads === 3) b.sheets.deleteRows(SPREADSHEET_ID, TAB, 14, 1);
    });
    const result = await b.run('--json');
    expect(result.code).toBe(0);
    const values = b.values();
    expect(values.some((row) => row[0] === 'PRJ-0013')).toBe(false);
    expect(expectNoVerdictOnAWrongRow(values)).toHaveLength(19);
    const summary = JSON.parse(result.stdout) as { writes: { skipped: Array<{ id: string; reason: string }> } };
    expect(summary.writes.skipped).toEqual([expect.objectContaining({ id: 'PRJ-0013' })]);
  });
});

describe('the run lock (invariant 8)', () => {
  /** The lock's name for the bed's sheet, as a running run writes it (read while one holds it). */
  async function lockName(b: Bed): Promise<string> {
    let name: string | undefined;
    const unsubscribe = b.sheets.onRequest(() => {
      name ??= lockRows(String((b.config.cache as { path: string }).path))[0]?.name;
    });
    const result = await b.run();
    unsubscribe();
    expect(result.code).toBe(0);
    if (name === undefined) throw new Error('no lock was held during the run');
    return name;
  }

  const cacheOf = (b: Bed) => String((b.config.cache as { path: string }).path);
  const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

  /** Edits one comment so that the next run has a row to ask about. */
  function giveWork(b: Bed, comment: string): void {
    b.sheets.setCell(SPREADSHEET_ID, TAB, 2, 3, comment);
  }

  it('takes over the lock of a run that was killed (SIGKILL) and does the work', async () => {
    bed = await startBed({ rows: sampleRows(30), llm: { latencyMs: 200 }, config: { llm: { max_workers: 2 } } });
    const b = bed;
    const child: Child = spawnRun(b);
    cleanups.push(async () => child.exited);
    await waitForChild(child, 'the first call', () => b.llm.callCount() >= 1);
    child.process.kill('SIGKILL');
    await child.exited;
    expect(lockRows(cacheOf(b)).map((l) => l.pid)).toEqual([child.pid]);

    b.llm.setLatency(0);
    const result = await b.run();
    expect(result.code, result.stderr).toBe(0);
    expect(expectNoVerdictOnAWrongRow(b.values())).toHaveLength(30);
    expect(lockRows(cacheOf(b))).toEqual([]);
  });

  it.each([
    ['its process has exited (same host)', 'dead', 0],
    ['this host has watched its heartbeat stand still for 11 minutes (another host)', 'elsewhere', 11],
  ] as const)('takes over a lock whose holder is gone: %s', async (_what, holder, silentFor) => {
    bed = await startBed({ rows: sampleRows(3) });
    const b = bed;
    const name = await lockName(b);
    const lock: LockRow = {
      name,
      run_id: 'run-of-a-dead-process',
      pid: holder === 'dead' ? await deadPid() : 4242,
      host: holder === 'dead' ? hostname() : 'another-host.example',
      started_at: minutesAgo(silentFor + 5),
      heartbeat_at: minutesAgo(silentFor),
    };
    insertLock(cacheOf(b), lock);
    // Another host's heartbeat time is by its clock: what counts is this host's watch of it.
    if (holder === 'elsewhere') insertSighting(cacheOf(b), { name, host: hostname(), run_id: lock.run_id, beat: 0, heartbeat_at: lock.heartbeat_at, seen_at: minutesAgo(silentFor) });
    giveWork(b, 'Edited after a crash: the report went out on Monday, review meeting booked for Thursday.');
    const calls = b.llm.callCount();
    const result = await b.run();
    expect(result.code, result.stderr).toBe(0);
    expect(b.llm.callCount()).toBe(calls + 1);
    expect(b.values()[1]?.[col(b.values(), 'Suggested rewrite')]).toBe('Rewrite: Edited after a crash: the report went out on Monday, review meeting booked for Thursday.');
    expect(lockRows(cacheOf(b))).toEqual([]);
  });

  it.each([
    ['another live process on this host', 'live'],
    ['a process on another host that renewed it a minute ago', 'elsewhere'],
  ] as const)('refuses to run, exit 4, naming pid, host and start time, when the lock is held by %s', async (_what, holder) => {
    bed = await startBed({ rows: sampleRows(3) });
    const b = bed;
    const name = await lockName(b);
    let pid = 4242;
    if (holder === 'live') {
      const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
      const exited = new Promise((resolve) => sleeper.once('close', resolve));
      cleanups.push(async () => {
        sleeper.kill('SIGKILL');
        await exited;
      });
      pid = sleeper.pid ?? -1;
      await waitFor('the sleeper to start', () => sleeper.pid !== undefined);
    }
    const host = holder === 'live' ? hostname() : 'another-host.example';
    const startedAt = minutesAgo(3);
    insertLock(cacheOf(b), { name, run_id: 'run-in-progress', pid, host, started_at: startedAt, heartbeat_at: minutesAgo(1) });
    giveWork(b, 'Edited while another run holds the lock: nothing may be asked or written now.');
    const calls = b.llm.callCount();
    const writes = b.sheets.writeCount();
    const result = await b.run();
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(`pid ${pid}`);
    expect(result.stderr).toContain(host);
    expect(result.stderr).toContain(startedAt);
    expect(b.llm.callCount()).toBe(calls);
    expect(b.sheets.writeCount()).toBe(writes);
    expect(lockRows(cacheOf(b)).map((l) => l.run_id)).toEqual(['run-in-progress']);
  });
});
