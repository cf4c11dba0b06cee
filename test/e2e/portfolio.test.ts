/** Issue 14: one config, several targets in two spreadsheets, one run over all of them. */
import { afterEach, describe, expect, it } from 'vitest';
import { defaultVerdict } from '../support/openai-emulator/index.js';
import { HEADER, SPREADSHEET_ID, TAB, col, startBed, type Bed } from '../support/bed.js';
import { targetRows } from '../support/sample-data.js';

const OTHER_BOOK = 'sheet-e2e-2';
const CYRILLIC = 'Статусы';
const RU_HEADER = ['Проект', 'Статус', 'Комментарий', 'Срок'];

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

/** Team B's rows carry an owner: empty for every third row, which its rulebook makes INVALID. */
function withOwners(rows: string[][]): string[][] {
  return rows.map((row, i) => [...row, i % 3 === 2 ? '' : `Lead ${i + 1}`]);
}

const TEAM_B_RULES = 'The comment must say what was done, what is next and by when.\n"Owner" must not be empty: every project has a named lead.';

/**
 * A bed with three targets: A and B in the first spreadsheet (B with an extra input
 * column, Owner, and its own rulebook), a Cyrillic tab in the second.
 */
async function portfolioBed(extra: Record<string, unknown> = {}): Promise<{ bed: Bed; rows: { a: string[][]; b: string[][]; ru: string[][] } }> {
  const rows = { a: targetRows('A', 12, 0), b: withOwners(targetRows('B', 9, 20)), ru: targetRows('RU', 7, 40) };
  const b = await startBed({ rows: rows.a, moreTabs: [{ title: 'Team B', rows: [[...HEADER, 'Owner'], ...rows.b] }], config: { sheets: { read_quota_per_minute: 100_000, write_quota_per_minute: 100_000 } } });
  b.sheets.addSpreadsheet(OTHER_BOOK, [{ title: CYRILLIC, rows: [RU_HEADER, ...rows.ru] }]);
  b.setConfig({
    targets: [
      { name: 'programme-a', sheet: TAB },
      { name: 'team-b', sheet: 'Team B', columns: { inputs: { owner: 'Owner' } }, rules: { text: TEAM_B_RULES } },
      { name: 'москва', spreadsheet_id: OTHER_BOOK, sheet: CYRILLIC, columns: { id: 'Проект', status: 'Статус', comment: 'Комментарий', completion_date: 'Срок' }, output: { columns: { verdict: 'Проверка' } } },
    ],
    ...extra,
  });
  return { bed: b, rows };
}

/** Each row's verdict is the one its own inputs call for (the emulator's rule plus the status list). */
function expectOwnVerdicts(values: string[][], rows: string[][], verdictHeader: string, what: string): void {
  const verdictCol = col(values, verdictHeader);
  const ownerCol = (values[0] ?? []).indexOf('Owner');
  rows.forEach((row, i) => {
    const cells = values[i + 1] ?? [];
    expect(cells.slice(0, row.length), `${what} row ${i + 2} inputs untouched`).toEqual(row);
    const [, status = '', comment = ''] = row;
    const allowed = ['planned', 'in progress', 'done', 'cancelled'].includes(status.toLowerCase());
    const ownerMissing = ownerCol >= 0 && (cells[ownerCol] ?? '') === '';
    const valid = defaultVerdict({ status, comment }).is_valid && allowed && !ownerMissing;
    expect(cells[verdictCol], `${what} row ${i + 2} (${row[0]})`).toBe(valid ? 'VALID' : 'INVALID');
  });
}

describe('a run over a portfolio of targets', () => {
  it('validates three targets in two spreadsheets in one run, each row with its own verdict; a rerun makes 0 calls', async () => {
    const { bed: b, rows } = await portfolioBed();
    bed = b;
    const first = await b.run('--json');
    expect(first.stderr).not.toContain('Error');
    expect(first.code).toBe(0);
    const report = JSON.parse(first.stdout) as { exitCode: number; total: { rowsAsked: number; llmCalls: number }; targets: Array<{ target: string; group: string; rows: { asked: number } }> };
    expect(report.targets.map((t) => [t.target, t.rows.asked])).toEqual([['programme-a', 12], ['team-b', 9], ['москва', 7]]);
    expect(new Set(report.targets.map((t) => t.group)).size).toBe(1);
    expect(report.total.rowsAsked).toBe(28);
    expect(b.llm.requests.length).toBe(28);
    expectOwnVerdicts(b.sheets.values(SPREADSHEET_ID, TAB), rows.a, 'Validation', 'programme-a');
    const teamB = b.sheets.values(SPREADSHEET_ID, 'Team B');
    expectOwnVerdicts(teamB, rows.b, 'Validation', 'team-b');
    // The extra input decided verdicts in team-b alone: its rulebook, its column.
    expect(teamB.filter((row) => row[col(teamB, 'Issues')] === '"Owner" is empty').length).toBe(3);
    expectOwnVerdicts(b.sheets.values(OTHER_BOOK, CYRILLIC), rows.ru, 'Проверка', 'москва');

    const second = await b.run();
    expect(second.code).toBe(0);
    expect(b.llm.requests.length).toBe(28);
    expect(second.stdout).toMatch(/programme-a[\s\S]*team-b[\s\S]*москва[\s\S]*total \(3\)/);
  });

  it('runs one target with --target and refuses an unknown name, listing the targets', async () => {
    const { bed: b } = await portfolioBed();
    bed = b;
    const one = await b.run('--target', 'МОСКВА', '--json');
    expect(one.code).toBe(0);
    expect(b.llm.requests.length).toBe(7);
    const unknown = await b.run('--target', 'nope');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('"programme-a", "team-b", "москва"');
  });

  it('fails only the target whose spreadsheet answers 403: the others are validated, the summary and the exit code say so', async () => {
    const { bed: b, rows } = await portfolioBed();
    bed = b;
    b.sheets.setForbidden(OTHER_BOOK, true);
    const result = await b.run();
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/москва\s.*FAILED/);
    expect(result.stderr).toMatch(/Error: \[москва\] .*permission/i);
    expect(result.stderr).toMatch(/Fix: Share the spreadsheet/);
    expectOwnVerdicts(b.sheets.values(SPREADSHEET_ID, TAB), rows.a, 'Validation', 'programme-a');
    expectOwnVerdicts(b.sheets.values(SPREADSHEET_ID, 'Team B'), rows.b, 'Validation', 'team-b');
    expect(b.llm.requests.length).toBe(21);
  });

  it('fails only the target whose tab is missing', async () => {
    const { bed: b, rows } = await portfolioBed();
    bed = b;
    b.setConfig({ targets: [{ name: 'programme-a', sheet: TAB }, { name: 'gone', sheet: 'No such tab' }] });
    const result = await b.run();
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/gone\s.*FAILED/);
    expect(result.stderr).toMatch(/Error: \[gone\] .*No such tab/);
    expectOwnVerdicts(b.sheets.values(SPREADSHEET_ID, TAB), rows.a, 'Validation', 'programme-a');
  });

  it('check-config lists the targets, and names the target of each problem', async () => {
    const { bed: b } = await portfolioBed();
    bed = b;
    const ok = await b.cli(['check-config', '--config', b.configPath]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('3 targets)');
    expect(ok.stdout).toContain(`москва: tab "${CYRILLIC}" in ${OTHER_BOOK}`);
    b.setConfig({ targets: [{ name: 'programme-a', sheet: TAB }, { name: 'team-b', sheet: 'Team B', columns: { status: '' }, cache: {} }] });
    const bad = await b.cli(['check-config', '--config', b.configPath]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('targets[1].columns.status: (target "team-b")');
    expect(bad.stderr).toContain('targets[1].cache: a target cannot set cache');
  });
});
