// From the review's reproduction ../shared/reproductions/portfolio-recheck.test.ts (issue 18), adapted to today's test support; its assertions kept.
// Review 2, finding 1: over 2+ targets, answerShared takes any cached verdict (run.ts:179 lookup), so rows selectWork chose to ASK AGAIN are not asked.
import { afterEach, describe, expect, it } from 'vitest';
import { HEADER, SPREADSHEET_ID, TAB, col, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';
import { defaultVerdict } from '../support/openai-emulator/index.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

async function portfolio(review: Record<string, unknown> = {}) {
  bed = await startBed({ rows: sampleRows(3), moreTabs: [{ title: 'Team B', rows: [HEADER, ...sampleRows(6).slice(3)] }], config: { review } });
  bed.setConfig({ targets: [{ name: 'a', sheet: TAB }, { name: 'b', sheet: 'Team B' }] });
  expect((await bed.run()).code).toBe(0);
  expect(bed.llm.callCount()).toBe(6);
  return bed;
}

describe('a portfolio run asks again what it was told to ask again', () => {
  it('a ticked Recheck box: one call, then the box is unticked', async () => {
    const b = await portfolio({ recheck_column: 'Recheck' });
    const box = col(b.values(), 'Recheck') + 1;
    b.sheets.setCell(SPREADSHEET_ID, TAB, 3, box, true);
    expect((await b.run()).code).toBe(0);
    expect(b.sheets.getCell(SPREADSHEET_ID, TAB, 3, box)).toMatchObject({ value: false }); // unticked...
    expect(b.llm.callCount()).toBe(7); // ...yet never asked: 6
  });

  it('--force asks every row again', async () => {
    const b = await portfolio();
    expect((await b.run('--force')).code).toBe(0);
    expect(b.llm.callCount()).toBe(12);
  });

  it('--recheck-older-than asks again about an old verdict', async () => {
    const b = await portfolio();
    b.sheets.setCell(SPREADSHEET_ID, TAB, 2, col(b.values(), 'Checked at') + 1, '2020-01-01T00:00:00.000Z');
    expect((await b.run('--recheck-older-than', '7d')).code).toBe(0);
    expect(b.llm.callCount()).toBe(7);
  });
});

describe('a question asked again over a portfolio is asked once across its targets (invariant 9)', () => {
  // Both tabs hold the same three questions (other ids): one cache key per pair of rows.
  async function twins(review: Record<string, unknown> = {}) {
    const rows = sampleRows(3);
    bed = await startBed({ rows, moreTabs: [{ title: 'Team B', rows: [HEADER, ...rows.map((r) => [`${r[0] ?? ''}-B`, ...r.slice(1)])] }], config: { review }, llm: { latencyMs: 100 } });
    bed.setConfig({ targets: [{ name: 'a', sheet: TAB }, { name: 'b', sheet: 'Team B' }] });
    expect((await bed.run()).code).toBe(0);
    expect(bed.llm.callCount()).toBe(3);
    return bed;
  }
  const cell = (b: Bed, tab: string, row: number, header: string) => b.sheets.values(SPREADSHEET_ID, tab)[row - 1]?.[col(b.values(), header)] ?? '';

  it('--force: the same question in two targets is asked once, not once per target', async () => {
    const b = await twins();
    expect((await b.run('--force')).code).toBe(0);
    expect(b.llm.callCount()).toBe(6);
  });

  it('--force: a target that comes to a question after another target answered it takes that fresh answer', async () => {
    const b = await twins();
    b.sheets.onResponse(async (call) => {
      if (call.op === 'values.get' && call.range === "'Team B'") await new Promise((resolve) => setTimeout(resolve, 1500));
    });
    b.llm.setRespond((row, req) => ({ ...defaultVerdict(row, req), issues: ['second look'] }));
    expect((await b.run('--force')).code).toBe(0);
    expect(b.llm.callCount()).toBe(6);
    expect(cell(b, 'Team B', 2, 'Issues')).toBe('second look');
  });

  it('--force --dry-run: asked once too (nothing is committed, the board keeps the answer)', async () => {
    const b = await twins();
    // Team B is read late: its questions come after Statuses' answers, not while they are in flight.
    b.sheets.onResponse(async (call) => {
      if (call.op === 'values.get' && call.range === "'Team B'") await new Promise((resolve) => setTimeout(resolve, 1500));
    });
    expect((await b.run('--force', '--dry-run')).code).toBe(0);
    expect(b.llm.callCount()).toBe(6);
  });

  it('the same question ticked in both targets: one call, both boxes unticked, both rows show the fresh verdict', async () => {
    const b = await twins({ recheck_column: 'Recheck' });
    const box = col(b.values(), 'Recheck') + 1;
    b.sheets.setCell(SPREADSHEET_ID, TAB, 2, box, true);
    b.sheets.setCell(SPREADSHEET_ID, 'Team B', 2, box, true);
    b.llm.setRespond((row, req) => ({ ...defaultVerdict(row, req), issues: ['second look'] }));
    expect((await b.run()).code).toBe(0);
    expect(b.llm.callCount()).toBe(4);
    for (const tab of [TAB, 'Team B']) {
      expect(b.sheets.getCell(SPREADSHEET_ID, tab, 2, box)).toMatchObject({ value: false });
      expect(cell(b, tab, 2, 'Issues')).toBe('second look');
    }
  });

  it('a ticked box whose fresh question fails stays ticked (only a fresh answer unticks it)', async () => {
    const b = await twins({ recheck_column: 'Recheck' });
    const box = col(b.values(), 'Recheck') + 1;
    b.sheets.setCell(SPREADSHEET_ID, TAB, 2, box, true);
    b.llm.injectFault({ kind: 'status', status: 400, body: { error: { message: 'bad row', type: 'invalid_request_error' } } }, { times: Infinity });
    await b.run();
    expect(b.sheets.getCell(SPREADSHEET_ID, TAB, 2, box)).toMatchObject({ value: true });
  });

  // Decided: a twin that was not asked to be rechecked is neither asked nor held back.
  // It shows the verdict the cache held for its question when its own target sorted its
  // rows (the old one if it sorted before the fresh answer came, as an unticked twin in
  // the same tab does: selectWork rewrites it from the cache), and since the fresh
  // verdict replaced the old one in the cache, the twin's next run writes it: the two
  // rows agree from then on, and nothing was paid for twice.
  it("a recheck in one target: its twin in the other target costs nothing and converges to the fresh verdict by the next run", async () => {
    const b = await twins({ recheck_column: 'Recheck' });
    const box = col(b.values(), 'Recheck') + 1;
    const before = cell(b, 'Team B', 2, 'Issues');
    b.sheets.setCell(SPREADSHEET_ID, TAB, 2, box, true);
    b.llm.setRespond((row, req) => ({ ...defaultVerdict(row, req), issues: ['second look'] }));
    expect((await b.run()).code).toBe(0);
    expect(b.llm.callCount()).toBe(4);
    expect(cell(b, TAB, 2, 'Issues')).toBe('second look');
    expect(b.sheets.getCell(SPREADSHEET_ID, TAB, 2, box)).toMatchObject({ value: false });
    expect([before, 'second look']).toContain(cell(b, 'Team B', 2, 'Issues'));
    expect(b.sheets.getCell(SPREADSHEET_ID, 'Team B', 2, box)?.value ?? false).toBe(false);
    expect((await b.run()).code).toBe(0);
    expect(b.llm.callCount()).toBe(4);
    expect(cell(b, 'Team B', 2, 'Issues')).toBe('second look');
  });
});
