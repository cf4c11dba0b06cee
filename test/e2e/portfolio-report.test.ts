/** Issue 14, items 2 and 4: runs, the Runs tab, eval, estimate, batch and rules publish over a config's targets. */
import { hostname } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/cache/index.js';
import { insertLock, liveStranger } from '../support/inspect.js';
import { RUNS_HEADER } from '../../src/report/index.js';
import { defaultVerdict } from '../support/openai-emulator/index.js';
import { HEADER, SPREADSHEET_ID, TAB, col, startBed, type Bed } from '../support/bed.js';
import { targetRows } from '../support/sample-data.js';
import { finishingClock } from '../support/virtual-clock.js';

const TEAM_B = 'Team B';
const OTHER_BOOK = 'sheet-e2e-2';

let bed: Bed | undefined;
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await bed?.close();
  bed = undefined;
});

/** Two targets, A (Statuses) and B (Team B), in one spreadsheet. */
async function twoTargets(config: Record<string, unknown> = {}, moreTabs: Array<{ title: string; rows: string[][] }> = []): Promise<{ b: Bed; a: string[][]; bRows: string[][] }> {
  const a = targetRows('A', 6, 0);
  const bRows = targetRows('B', 4, 20);
  const b = await startBed({ rows: a, moreTabs: [{ title: TEAM_B, rows: [HEADER, ...bRows] }, ...moreTabs], config: { sheets: { read_quota_per_minute: 100_000, write_quota_per_minute: 100_000 }, ...config } });
  b.setConfig({ targets: [{ name: 'programme-a', sheet: TAB }, { name: 'team-b', sheet: TEAM_B }] });
  return { b, a, bRows };
}

function expectOwnVerdicts(values: string[][], rows: string[][], what: string): void {
  const verdictCol = col(values, 'Validation');
  rows.forEach((row, i) => {
    const cells = values[i + 1] ?? [];
    expect(cells.slice(0, 4), `${what} row ${i + 2} inputs untouched`).toEqual(row);
    const [, status = '', comment = ''] = row;
    const allowed = ['planned', 'in progress', 'done', 'cancelled'].includes(status.toLowerCase());
    expect(cells[verdictCol], `${what} row ${i + 2} (${row[0]})`).toBe(defaultVerdict({ status, comment }).is_valid && allowed ? 'VALID' : 'INVALID');
  });
}

interface RunJson {
  target: string;
  group: string | null;
  sheet: string;
  status: string;
}

describe('runs and the Runs tab over targets', () => {
  it('lists a line per target and run, the runs of one `run` under one group; --target keeps one target; the Runs tab has a Target column', async () => {
    const { b } = await twoTargets({ report: { runs_sheet: 'Runs' } });
    bed = b;
    expect((await b.run()).code).toBe(0);
    expect((await b.run()).code).toBe(0);
    const listed = await b.cli(['runs', '--config', b.configPath, '--json']);
    expect(listed.code).toBe(0);
    const runs = JSON.parse(listed.stdout) as RunJson[];
    expect(runs).toHaveLength(4);
    // Newest group first; within a group its targets.
    expect(new Set(runs.map((r) => r.target))).toEqual(new Set(['programme-a', 'team-b']));
    const [g1, g2] = [runs.slice(0, 2), runs.slice(2, 4)];
    for (const group of [g1, g2]) {
      expect(new Set(group.map((r) => r.target)).size).toBe(2);
      expect(group[0]?.group).toMatch(/^[0-9a-f-]{36}$/);
      expect(group[1]?.group).toBe(group[0]?.group);
    }
    expect(g1[0]?.group).not.toBe(g2[0]?.group);

    const text = await b.cli(['runs', '--config', b.configPath]);
    const lines = text.stdout.split('\n').filter((l) => /^\d{4}-/.test(l));
    expect(lines).toHaveLength(4);
    expect(lines.filter((l) => l.includes(` ${(g1[0]?.group ?? '').slice(0, 8)} `))).toHaveLength(2);
    expect(lines.filter((l) => /\steam-b\s/.test(l))).toHaveLength(2);

    const one = JSON.parse((await b.cli(['runs', '--config', b.configPath, '--json', '--target', 'TEAM-B'])).stdout) as RunJson[];
    expect(one.map((r) => r.target)).toEqual(['team-b', 'team-b']);
    const unknown = await b.cli(['runs', '--config', b.configPath, '--target', 'nope']);
    expect(unknown.code).toBe(2);

    // Both targets share the spreadsheet and its Runs tab: a line each per run, told apart by Target.
    const tab = b.sheets.values(SPREADSHEET_ID, 'Runs');
    expect(tab[0]).toEqual(RUNS_HEADER);
    const target = col(tab, 'Target');
    const group = col(tab, 'Run group');
    const runId = col(tab, 'Run id');
    expect(tab.slice(1).map((r) => r[target]).sort()).toEqual(['programme-a', 'programme-a', 'team-b', 'team-b']);
    for (const run of runs) {
      const row = tab.find((r) => r[runId] === (run as unknown as { id: string }).id);
      expect(row?.[target]).toBe(run.target);
      expect(row?.[group]).toBe(run.group);
    }
  });

  it('appends to an old Runs tab (no Target column, columns moved, a column of people) each value under its header, and touches no cell of theirs', async () => {
    // An older version's header (no Target, no Run group), with Trigger and Status swapped by a person,
    // a Notes column of theirs after it, an old run and a note.
    const old = [...RUNS_HEADER.slice(0, 16)];
    [old[2], old[3]] = [old[3] ?? '', old[2] ?? ''];
    const oldRow = old.map((h) => `old ${h}`);
    const { b } = await twoTargets({ report: { runs_sheet: 'Runs' } });
    bed = b;
    // The tab's grid is exactly as wide as its columns: the new headers need the grid grown first.
    b.sheets.removeSpreadsheet(SPREADSHEET_ID);
    b.sheets.addSpreadsheet(SPREADSHEET_ID, [
      { title: TAB, rows: [HEADER, ...targetRows('A', 6, 0)], columnCount: 12 },
      { title: TEAM_B, rows: [HEADER, ...targetRows('B', 4, 20)], columnCount: 12 },
      { title: 'Runs', rows: [[...old, 'Notes'], [...oldRow, 'keep me']], columnCount: 17, rowCount: 10 },
    ]);
    const run = await b.run('--json');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as { targets: Array<{ target: string; runId: string; trigger: string; status: string; warnings: string[] }> };
    for (const t of report.targets) expect(t.warnings).toEqual([]);

    const tab = b.sheets.values(SPREADSHEET_ID, 'Runs');
    // The new headers went after the people's column, into empty columns.
    expect(tab[0]).toEqual([...old, 'Notes', 'Target', 'Run group', ...RUNS_HEADER.slice(18)]);
    expect(tab[1]).toEqual([...oldRow, 'keep me']);
    expect(tab).toHaveLength(4);
    for (const t of report.targets) {
      const row = tab.find((r) => r[col(tab, 'Run id')] === t.runId) ?? [];
      expect(row[col(tab, 'Target')]).toBe(t.target);
      expect(row[col(tab, 'Trigger')]).toBe(t.trigger);
      expect(row[col(tab, 'Status')]).toBe(t.status);
      expect(row[col(tab, 'Notes')] ?? '').toBe('');
    }
  });

  it('stops appending (a warning, the run recorded in the cache) when a header of the Runs tab appears twice', async () => {
    const { b } = await twoTargets({ report: { runs_sheet: 'Runs' } });
    bed = b;
    expect((await b.run('--target', 'programme-a')).code).toBe(0);
    const before = b.sheets.values(SPREADSHEET_ID, 'Runs');
    // The Runs tab's grid is as wide as its header (26 columns since 'Retries (429, 5xx)'): a person widens it first.
    b.sheets.setGridSize(SPREADSHEET_ID, 'Runs', { columnCount: RUNS_HEADER.length + 4 });
    b.sheets.setCell(SPREADSHEET_ID, 'Runs', 1, RUNS_HEADER.length + 2, 'Target');
    const again = await b.run('--target', 'programme-a', '--json');
    const report = JSON.parse(again.stdout) as { targets: Array<{ warnings: string[] }> };
    expect(report.targets[0]?.warnings.join('\n')).toMatch(/"Runs" tab has the header "Target" 2 times/);
    expect(b.sheets.values(SPREADSHEET_ID, 'Runs').slice(1)).toEqual(before.slice(1));
    const runs = JSON.parse((await b.cli(['runs', '--config', b.configPath, '--json'])).stdout) as RunJson[];
    expect(runs).toHaveLength(2);
  });
});

interface AgreementJson {
  reviewed: number;
  compared: number;
  agreed: number;
  matrix: Record<'VALID' | 'INVALID', Record<'VALID' | 'INVALID', number>>;
}

describe('eval over targets', () => {
  it('measures agreement per target (a confusion matrix each) and overall; --target measures one', async () => {
    const { b } = await twoTargets({ review: { override_column: 'Reviewer verdict' } });
    bed = b;
    expect((await b.run()).code).toBe(0);
    // A: reviewers agree on rows 2, 3 and flip row 4. B: they flip rows 2 and 3.
    const review = (tab: string, rows: number[], flip: number[]) => {
      const values = b.sheets.values(SPREADSHEET_ID, tab);
      const override = col(values, 'Reviewer verdict') + 1;
      for (const row of rows) {
        const model = values[row - 1]?.[col(values, 'Validation')] ?? '';
        const given = flip.includes(row) ? (model === 'VALID' ? 'INVALID: no' : 'VALID') : model;
        b.sheets.setCell(SPREADSHEET_ID, tab, row, override, given);
      }
    };
    review(TAB, [2, 3, 4], [4]);
    review(TEAM_B, [2, 3], [2, 3]);
    const calls = b.llm.callCount();
    const result = await b.cli(['eval', '--config', b.configPath, '--json']);
    expect(result.code).toBe(0);
    const e = JSON.parse(result.stdout) as { targets: Array<AgreementJson & { target: string }>; overall: AgreementJson };
    expect(e.targets.map((t) => [t.target, t.reviewed, t.agreed])).toEqual([
      ['programme-a', 3, 2],
      ['team-b', 2, 0],
    ]);
    const cells = (m: AgreementJson['matrix']) => [m.VALID.VALID, m.VALID.INVALID, m.INVALID.VALID, m.INVALID.INVALID];
    const [ta, tb] = e.targets;
    expect(cells(e.overall.matrix)).toEqual(cells(ta?.matrix ?? e.overall.matrix).map((n, i) => n + (cells(tb?.matrix ?? e.overall.matrix)[i] ?? 0)));
    expect(e.overall).toMatchObject({ reviewed: 5, compared: 5, agreed: 2 });
    expect(b.llm.callCount()).toBe(calls);

    const text = await b.cli(['eval', '--config', b.configPath]);
    expect(text.stdout).toMatch(/== programme-a[\s\S]*agreement: 66\.7% \(2\/3\)[\s\S]*== team-b[\s\S]*agreement: 0\.0% \(0\/2\)[\s\S]*== overall \(2 of 2 targets\)[\s\S]*agreement: 40\.0% \(2\/5\)/);
    const one = JSON.parse((await b.cli(['eval', '--config', b.configPath, '--json', '--target', 'team-b'])).stdout) as { targets: Array<{ target: string }>; overall: AgreementJson };
    expect(one.targets.map((t) => t.target)).toEqual(['team-b']);
    expect(one.overall.reviewed).toBe(2);
  });
});

interface EstimateJson {
  exitCode: number;
  targets: Array<{ target: string; rows?: number; toAsk?: number; modes?: Array<{ requests: number; promptTokens: number; costUsd: number | null }>; error?: { message: string } }>;
  total: { targets: number; failed: number; rows: number; toAsk: number; modes: Array<{ mode: string; requests: number; promptTokens: number; costUsd: number | null }> };
}

describe('estimate over targets', () => {
  it('estimates each target and the total; a target whose spreadsheet answers 403 is named, the others estimated, exit 1', async () => {
    const { b } = await twoTargets();
    bed = b;
    b.sheets.addSpreadsheet(OTHER_BOOK, [{ title: TAB, rows: [HEADER, ...targetRows('C', 3, 40)] }]);
    b.setConfig({ targets: [{ name: 'programme-a', sheet: TAB }, { name: 'team-b', sheet: TEAM_B }, { name: 'closed', spreadsheet_id: OTHER_BOOK, sheet: TAB }] });
    b.sheets.setForbidden(OTHER_BOOK, true);
    const result = await b.cli(['estimate', '--config', b.configPath, '--json']);
    expect(result.code).toBe(1);
    expect(b.llm.callCount()).toBe(0);
    const e = JSON.parse(result.stdout) as EstimateJson;
    expect(e.targets.map((t) => [t.target, t.rows, t.toAsk])).toEqual([
      ['programme-a', 6, 6],
      ['team-b', 4, 4],
      ['closed', undefined, undefined],
    ]);
    expect(e.targets[2]?.error?.message).toMatch(/permission/i);
    expect(e.total).toMatchObject({ targets: 3, failed: 1, rows: 10, toAsk: 10 });
    e.total.modes.forEach((mode, i) => {
      const parts = e.targets.slice(0, 2).map((t) => t.modes?.[i]);
      expect(mode.requests).toBe(parts.reduce((n, m) => n + (m?.requests ?? 0), 0));
      expect(mode.promptTokens).toBe(parts.reduce((n, m) => n + (m?.promptTokens ?? 0), 0));
      expect(mode.costUsd).toBeCloseTo(parts.reduce((n, m) => n + (m?.costUsd ?? 0), 0), 9);
    });
    expect(e.total.modes[0]?.requests).toBe(10);

    const text = await b.cli(['estimate', '--config', b.configPath]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/programme-a\s+6\s+6\s+6/);
    expect(text.stdout).toMatch(/closed\s+NOT ESTIMATED: .*permission/i);
    expect(text.stdout).toMatch(/total \(2\)\s+10\s+10/);
    expect(text.stderr).toMatch(/\[closed\]/);

    const one = await b.cli(['estimate', '--config', b.configPath, '--json', '--target', 'team-b']);
    expect(one.code).toBe(0);
    expect((JSON.parse(one.stdout) as EstimateJson).total).toMatchObject({ targets: 1, rows: 4 });
  });
});

/** Two targets with the SAME tab name in two spreadsheets: a job told apart by tab name alone would go astray. */
async function twinTabs(): Promise<{ b: Bed; one: string[][]; two: string[][] }> {
  const one = targetRows('ONE', 5, 0);
  const two = targetRows('TWO', 4, 20);
  const b = await startBed({ rows: one, config: { sheets: { read_quota_per_minute: 100_000, write_quota_per_minute: 100_000 } } });
  b.sheets.addSpreadsheet(OTHER_BOOK, [{ title: TAB, rows: [HEADER, ...two] }]);
  b.setConfig({ targets: [{ name: 'one', sheet: TAB }, { name: 'two', spreadsheet_id: OTHER_BOOK, sheet: TAB }] });
  return { b, one, two };
}

interface JobJson {
  id: string;
  target: string;
  spreadsheetId: string;
  sheet: string;
  requests: number;
  appliedAt: string | null;
}

describe('batch over targets', () => {
  it('submits a job per target; results write each row of each tab its own verdict, and a target`s results write 0 cells to the other tab', async () => {
    const { b, one, two } = await twinTabs();
    bed = b;
    const submitted = await b.cli(['batch', 'submit', '--config', b.configPath]);
    expect(submitted.code).toBe(0);
    expect(submitted.stdout).toMatch(/\[one\] submitted batch_\S+: 5 requests/);
    expect(submitted.stdout).toMatch(/\[two\] submitted batch_\S+: 4 requests/);
    const jobs = JSON.parse((await b.cli(['batch', 'list', '--config', b.configPath, '--json'])).stdout) as JobJson[];
    expect(jobs.map((j) => [j.target, j.spreadsheetId, j.requests]).sort()).toEqual([
      ['one', SPREADSHEET_ID, 5],
      ['two', OTHER_BOOK, 4],
    ]);
    for (const batch of b.llm.batches()) await b.llm.advanceBatch(batch.id, 'completed');
    const jobOne = jobs.find((j) => j.target === 'one');

    // A job named by id under another --target is refused, not applied.
    const refused = await b.cli(['batch', 'results', jobOne?.id ?? '', '--config', b.configPath, '--target', 'two']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/submitted for "Statuses" in sheet-e2e-1 \(target "one"\)/);
    const untouchedOne = b.sheets.values(SPREADSHEET_ID, TAB);
    const beforeTwo = b.sheets.values(OTHER_BOOK, TAB);
    expect(beforeTwo[0]).toEqual(HEADER);

    const onlyTwo = await b.cli(['batch', 'results', '--config', b.configPath, '--target', 'two']);
    expect(onlyTwo.code).toBe(0);
    expectOwnVerdicts(b.sheets.values(OTHER_BOOK, TAB), two, 'two');
    expect(b.sheets.values(SPREADSHEET_ID, TAB)).toEqual(untouchedOne);
    const afterTwo = JSON.parse((await b.cli(['batch', 'list', '--config', b.configPath, '--json'])).stdout) as JobJson[];
    expect(afterTwo.find((j) => j.target === 'one')?.appliedAt).toBeNull();

    const doneTwo = b.sheets.values(OTHER_BOOK, TAB);
    const all = await b.cli(['batch', 'results', '--config', b.configPath]);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/\[one\] batch_\S+ \(completed\): 5 answers saved/);
    expectOwnVerdicts(b.sheets.values(SPREADSHEET_ID, TAB), one, 'one');
    expect(b.sheets.values(OTHER_BOOK, TAB)).toEqual(doneTwo);
    expect(b.llm.callCount()).toBe(0);
  });

  it('submits each target under its own lock: a target whose lock another run holds exits 4 and sends nothing; the other is submitted', async () => {
    const { b, two } = await twinTabs();
    bed = b;
    const cache = path.join(b.dir, 'cache.sqlite');
    await SqliteStore.open(cache).close();
    const pid = await liveStranger(cleanups);
    const now = new Date().toISOString();
    insertLock(cache, { name: `${SPREADSHEET_ID}/${TAB.toLowerCase()}`, run_id: 'run-in-progress', pid, host: hostname(), started_at: now, heartbeat_at: now });
    const submitted = await b.cli(['batch', 'submit', '--config', b.configPath]);
    expect(submitted.code).toBe(4);
    expect(submitted.stderr).toMatch(/\[one\] nothing submitted: .*pid/);
    expect(submitted.stdout).toMatch(/\[two\] submitted batch_\S+: 4 requests/);
    expect(b.llm.batches()).toHaveLength(1);
    expect((await b.llm.advanceBatch(b.llm.batches()[0]?.id ?? '', 'completed')).request_counts.total).toBe(two.length);
  });

  it('run --mode batch covers every target: each tab gets its own verdicts, no synchronous call', async () => {
    const { b, one, two } = await twinTabs();
    bed = b;
    const result = await b.cli(['run', '--config', b.configPath, '--mode', 'batch', '--every', '1s'], { clock: finishingClock(b) });
    expect(result.code, result.stderr).toBe(0);
    expect(b.llm.callCount()).toBe(0);
    expect(b.llm.batchLineCount()).toBe(9);
    expectOwnVerdicts(b.sheets.values(SPREADSHEET_ID, TAB), one, 'one');
    expectOwnVerdicts(b.sheets.values(OTHER_BOOK, TAB), two, 'two');
    expect(result.stdout).toMatch(/one[\s\S]*two[\s\S]*total \(2\)/);
  });
});

describe('rules publish over targets', () => {
  it('publishes one tab per spreadsheet when its targets share a rulebook, a tab per target when they do not', async () => {
    const { b } = await twoTargets();
    bed = b;
    b.sheets.addSpreadsheet(OTHER_BOOK, [{ title: TAB, rows: [HEADER, ...targetRows('C', 2, 40)] }]);
    b.setConfig({ targets: [{ name: 'programme-a', sheet: TAB }, { name: 'team-b', sheet: TEAM_B }, { name: 'risks', spreadsheet_id: OTHER_BOOK, sheet: TAB, rules: { text: 'Every risk names an owner.' } }] });
    const shared = await b.cli(['rules', 'publish', '--config', b.configPath]);
    expect(shared.code, shared.stderr).toBe(0);
    const tab = b.sheets.values(SPREADSHEET_ID, 'Rules');
    expect(tab.find((r) => r[0] === 'Applies to')?.slice(1)).toEqual(['programme-a ("Statuses")', 'team-b ("Team B")']);
    expect(tab.some((r) => r[1] === 'The comment must say what was done, what is next and by when.')).toBe(true);
    const risks = b.sheets.values(OTHER_BOOK, 'Rules');
    expect(risks.some((r) => r[1] === 'Every risk names an owner.')).toBe(true);
    expect(risks.some((r) => r[1]?.startsWith('The comment must'))).toBe(false);

    // Two rulebooks in one spreadsheet: a tab each, so that neither replaces the other.
    b.setConfig({ targets: [{ name: 'programme-a', sheet: TAB }, { name: 'team-b', sheet: TEAM_B, rules: { text: 'Team B writes in French.' } }] });
    const split = await b.cli(['rules', 'publish', '--config', b.configPath, '--tab', 'Rulebook']);
    expect(split.code, split.stderr).toBe(0);
    expect(b.sheets.values(SPREADSHEET_ID, 'Rulebook (team-b)').some((r) => r[1] === 'Team B writes in French.')).toBe(true);
    expect(b.sheets.values(SPREADSHEET_ID, 'Rulebook (programme-a)').some((r) => r[1]?.startsWith('The comment must'))).toBe(true);

    // The tab is checked against every target of the spreadsheet, not only the one published.
    b.setConfig({ targets: [{ name: 'programme-a', sheet: TAB }, { name: 'team-b', sheet: TEAM_B }] });
    const clash = await b.cli(['rules', 'publish', '--config', b.configPath, '--tab', TEAM_B.toUpperCase(), '--target', 'programme-a']);
    expect(clash.code).toBe(2);
    expect(clash.stderr).toContain('is the tab of sheets.sheet ("Team B" of target "team-b"');
  });
});
