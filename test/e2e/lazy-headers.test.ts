/**
 * Issue 19, item 1: a run that stops early because no provider can be used (a refused
 * key, an unreachable endpoint) writes nothing to the sheet, not even the output headers
 * of a tab that has none yet. What the bot adds besides verdicts (output headers, grid
 * growth, the results tab, the Runs tab's row) is made only when the first verdict is
 * about to be written, and never by a run that ends with nothing to write; a dry run
 * writes nothing at all.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { col, deepMerge, HEADER, OUTPUT_HEADERS, SPREADSHEET_ID, startBed, TAB, type Bed, type BedOptions } from '../support/bed.js';
import { expectedCells } from '../support/inspect.js';
import type { RecordedCall } from '../support/sheets-emulator/index.js';
import { sampleRows, targetRows } from '../support/sample-data.js';
import { closedPort } from '../support/closed-port.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

const WRONG_KEY = 'sk-wrong-0123456789abcdefXYZ';
const TEAM_B = 'Team B';

interface Summary {
  status: string;
  fatal?: { message: string; hint?: string };
  writes: { rowsWritten: number; headersAdded: string[] };
}

/** Everything a person could see of the spreadsheet: its tabs, and each tab's cells and grid. */
function snapshot(b: Bed): unknown {
  return b.sheets.tabs(SPREADSHEET_ID).map((tab) => ({ tab, values: b.sheets.values(SPREADSHEET_ID, tab), grid: b.sheets.gridSize(SPREADSHEET_ID, tab) }));
}

/** A tab as a person starts it: the input headers only, on a grid no wider than them (a new column needs the grid grown). */
async function freshBed(options: BedOptions = {}): Promise<Bed> {
  return startBed({ rows: sampleRows(8), header: HEADER, columnCount: HEADER.length, ...options });
}

function refuseKey(b: Bed): void {
  b.env.TEST_OPENAI_KEY = WRONG_KEY;
}

async function unreachable(b: Bed): Promise<void> {
  const port = await closedPort();
  b.setConfig({ llm: { providers: [{ name: 'emulator', model: 'gpt-5-mini', base_url: `http://127.0.0.1:${port}/v1`, api_key_env: 'TEST_OPENAI_KEY' }] } });
}

/**
 * The write-access check a run makes on a tab it has not written to yet, before paying for
 * an answer: a developer-metadata entry added and removed in one request, which no person sees.
 */
// The probe's metadata is on the spreadsheet and removed in the same batch (write-probe.ts); the look's marks are on columns.
const isProbe = (call: { op: string; body?: unknown }) => call.op === 'batchUpdate' && /"createDeveloperMetadata":\{"developerMetadata":\{[^}]*"location":\{"spreadsheet":true\}/.test(JSON.stringify(call.body ?? '')) && JSON.stringify(call.body ?? '').includes('deleteDeveloperMetadata');

/** The Sheets writes other than that check. */
const realWrites = (b: Bed) => b.sheets.calls.filter((c) => c.kind === 'write' && !isProbe(c));

/** The run stopped early, said why, and the spreadsheet is exactly as it was: no header, no grown grid, no new tab. */
function expectStoppedUntouched(b: Bed, result: { code: number; stdout: string; stderr: string }, before: unknown): void {
  expect(result.code, result.stderr).toBe(1);
  expect(snapshot(b)).toEqual(before);
  expect(realWrites(b)).toEqual([]);
  expect(b.sheets.developerMetadata(SPREADSHEET_ID)).toEqual([]);
}

describe('a run stopped before its first answer leaves a fresh tab as it was', () => {
  it.each([
    ['a refused key', refuseKey, /rejected the API key \(401/],
    ['an unreachable endpoint', unreachable, /connection refused/],
  ] as const)('%s: exit 1, no output header, no grown grid', async (_what, breakIt, why) => {
    bed = await freshBed();
    await breakIt(bed);
    const before = snapshot(bed);
    const result = await bed.run('--json');
    expectStoppedUntouched(bed, result, before);
    const summary = JSON.parse(result.stdout) as Summary;
    expect(summary.status).toBe('failed');
    expect(summary.fatal?.message).toMatch(why);
    expect(summary.writes.headersAdded).toEqual([]);
    expect(summary.writes.rowsWritten).toBe(0);
  });

  it('with a results tab (output.sheet): the results tab is not created, the data tab gets no reviewer column', async () => {
    bed = await freshBed({ config: { output: { sheet: 'Review' }, review: { recheck_column: 'Recheck' } } });
    refuseKey(bed);
    const before = snapshot(bed);
    const result = await bed.run('--json');
    expectStoppedUntouched(bed, result, before);
    expect(bed.sheets.tabs(SPREADSHEET_ID)).not.toContain('Review');
  });

  it('with a Runs tab (report.runs_sheet): no Runs tab and no row for a run that wrote nothing (the run is in the cache)', async () => {
    bed = await freshBed({ config: { report: { runs_sheet: 'Runs' } } });
    await unreachable(bed);
    const before = snapshot(bed);
    const result = await bed.run('--json');
    expectStoppedUntouched(bed, result, before);
    const runs = await bed.cli(['runs', '--config', bed.configPath]);
    expect(runs.code, runs.stderr).toBe(0);
    expect(runs.stdout).toMatch(/failed/);
  });

  it('a portfolio of two fresh tabs sharing the refused provider writes to neither', async () => {
    bed = await freshBed({ moreTabs: [{ title: TEAM_B, rows: [HEADER, ...targetRows('B', 5, 20)] }] });
    bed.setConfig({ targets: [{ name: 'programme-a', sheet: TAB }, { name: 'team-b', sheet: TEAM_B }] });
    refuseKey(bed);
    const before = snapshot(bed);
    const result = await bed.run('--json');
    expectStoppedUntouched(bed, result, before);
    const report = JSON.parse(result.stdout) as { targets: Summary[] };
    expect(report.targets.map((t) => t.status)).toEqual(['failed', 'failed']);
  });
});

describe('a fresh tab shared read-only', () => {
  it.each([
    ['in place', {}],
    ['with a results tab', { output: { sheet: 'Review' } }],
  ] as const)('%s: refused before any answer is paid for, naming the account to share it with', async (_what, config) => {
    bed = await freshBed({ config });
    const before = snapshot(bed);
    bed.sheets.injectFault({ status: 403, message: 'The caller does not have permission' }, { kind: 'write', times: Infinity });
    const result = await bed.run();
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Fix: Share the spreadsheet with \S+ as an Editor/);
    expect(bed.llm.callCount()).toBe(0);
    expect(snapshot(bed)).toEqual(before);
  });
});

describe('a dry run writes nothing at all', () => {
  it.each([
    ['in place', {}],
    ['with a results tab, a reviewer column and a Runs tab', { output: { sheet: 'Review' }, review: { recheck_column: 'Recheck' }, report: { runs_sheet: 'Runs' } }],
  ] as const)('%s, on a fresh tab: every row asked, not one Sheets write', async (_what, config) => {
    bed = await freshBed({ config });
    const before = snapshot(bed);
    const result = await bed.run('--dry-run', '--json');
    expect(result.code, result.stderr).toBe(0);
    expect(bed.llm.callCount()).toBeGreaterThan(0);
    expect(snapshot(bed)).toEqual(before);
    expect(bed.sheets.writeCount()).toBe(0);
  });
});

describe('the output headers are made when the first verdict is about to be written', () => {
  /**
   * Each Sheets write that went through, with how many model calls had been made when it
   * did (a write refused for want of room, before the grid is grown, changes nothing).
   */
  function watchWrites(b: Bed): Array<{ call: RecordedCall; llmCalls: number }> {
    const writes: Array<{ call: RecordedCall; llmCalls: number }> = [];
    b.sheets.onResponse((call) => {
      if (call.kind === 'write' && call.status === 200) writes.push({ call, llmCalls: b.llm.callCount() });
    });
    return writes;
  }
  const headerWrites = (writes: ReadonlyArray<{ call: RecordedCall }>) =>
    writes.filter(({ call }) => call.op === 'values.batchUpdate' && (call.body as { data: Array<{ range: string }> }).data.some((d) => /!E1(:|$)/.test(d.range)));
  const growths = (writes: ReadonlyArray<{ call: RecordedCall }>) =>
    writes.filter(({ call }) => call.op === 'batchUpdate' && JSON.stringify(call.body).includes('appendDimension'));

  it('after the first answer, once: the grid grown, the headers written, then every row', async () => {
    const rows = sampleRows(8);
    bed = await freshBed({ rows });
    const writes = watchWrites(bed);
    const result = await bed.run('--json');
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as Summary;
    expect(summary.writes.headersAdded).toEqual(OUTPUT_HEADERS);
    // Write access was checked before the first model call (a fresh tab: a read-only share
    // is refused before any answer is paid for); nothing is written before a model has answered.
    expect(writes.filter(({ call }) => isProbe(call)).map((w) => w.llmCalls)).toEqual([0]);
    expect(writes.length).toBeGreaterThan(1);
    expect(writes.every((w) => isProbe(w.call) || w.llmCalls > 0)).toBe(true);
    expect(headerWrites(writes)).toHaveLength(1);
    expect(growths(writes)).toHaveLength(1);
    const values = bed.values();
    expect(values[0]).toEqual([...HEADER, ...OUTPUT_HEADERS]);
    rows.forEach((row, i) => expect(values[i + 1]?.[col(values, 'Validation')], row[0]).toBe(expectedCells(row).verdict));
    // A second run finds them there: it adds nothing.
    const again = await bed.run('--json');
    expect(again.code, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as Summary).writes.headersAdded).toEqual([]);
    // …and checks no write access: nothing is left to make.
    expect(writes.filter(({ call }) => isProbe(call))).toHaveLength(1);
    expect(bed.values()[0]).toEqual([...HEADER, ...OUTPUT_HEADERS]);
  });

  it('a results tab is created after the first answer, once, with every line', async () => {
    const rows = sampleRows(6);
    bed = await freshBed({ rows, config: { output: { sheet: 'Review' } } });
    const writes = watchWrites(bed);
    const result = await bed.run('--json');
    expect(result.code, result.stderr).toBe(0);
    expect(writes.every((w) => isProbe(w.call) || w.llmCalls > 0)).toBe(true);
    expect(writes.filter(({ call }) => JSON.stringify(call.body ?? '').includes('addSheet'))).toHaveLength(1);
    const review = bed.sheets.values(SPREADSHEET_ID, 'Review');
    expect(review).toHaveLength(rows.length + 1);
    expect(bed.values()[0]).toEqual(HEADER);
  });

  it('two configs sharing a results tab that does not exist yet, run at once: the tab is made once, with every line', async () => {
    bed = await freshBed({ rows: sampleRows(3), moreTabs: [{ title: TEAM_B, rows: [HEADER, ...targetRows('B', 3, 20)] }], config: { output: { sheet: 'Review', write_batch_size: 1 } }, llm: { latencyMs: 30 } });
    const b = bed;
    const other = path.join(b.dir, 'team-b.yaml');
    writeFileSync(other, stringify(deepMerge(b.config, { sheets: { sheet: TEAM_B }, cache: { path: path.join(b.dir, 'team-b.sqlite') } })));
    const writes = watchWrites(b);
    const results = await Promise.all([b.run(), b.cli(['run', '--config', other])]);
    expect(results.map((r) => r.code), results.map((r) => r.stderr).join('\n')).toEqual([0, 0]);
    expect(writes.filter(({ call }) => JSON.stringify(call.body ?? '').includes('addSheet'))).toHaveLength(1);
    const review = b.sheets.values(SPREADSHEET_ID, 'Review');
    expect(review[0]).toEqual(['Project', 'Source row', ...OUTPUT_HEADERS]);
    expect(review.slice(1).map((line) => line[0]).sort()).toEqual(['B-1', 'B-2', 'B-3', 'PRJ-0001', 'PRJ-0002', 'PRJ-0003']);
  });

  it('a tab with no rows to ask gets no headers, and the run succeeds', async () => {
    bed = await freshBed({ rows: [] });
    const before = snapshot(bed);
    const result = await bed.run('--json');
    expect(result.code, result.stderr).toBe(0);
    expect(snapshot(bed)).toEqual(before);
    expect(bed.sheets.writeCount()).toBe(0);
  });

  it.each([
    ['in place', {}],
    ['with a results tab', { output: { sheet: 'Review' } }],
  ] as const)('watch, %s: a tab with no rows and no output headers is quiet poll after poll, and nothing is written', async (_what, config) => {
    bed = await freshBed({ rows: [], config: { ...config, report: { runs_sheet: 'Runs' } } });
    const before = snapshot(bed);
    const clock = { now: () => new Date(), sleep: () => Promise.resolve() };
    const result = await bed.cli(['watch', '--config', bed.configPath, '--every', '5s', '--polls', '3'], { clock });
    expect(result.code, result.stderr).toBe(0);
    // Missing headers are no work: a run for them alone would make nothing, at every poll.
    expect(result.stdout).not.toMatch(/rows written|asked/);
    expect(snapshot(bed)).toEqual(before);
    expect(bed.sheets.writeCount()).toBe(0);
  });
});
