/**
 * Issue 14, rows of any shape: an extra input column (columns.inputs) the rules speak of
 * goes to the model under its header, decides each row's own verdict, is part of the
 * cache key (a rerun is free, an edit of that cell alone re-asks that row alone) and of
 * the row's identity (a column inserted mid-run moves no verdict onto a foreign cell).
 */
import type { Clock } from '../../src/commands/context.js';
import { afterEach, describe, expect, it } from 'vitest';
import { col, OUTPUT_HEADERS, SPREADSHEET_ID, startBed, TAB, type Bed } from '../support/bed.js';
import { foreignGuard } from '../support/foreign.js';
import { extraFields } from '../support/openai-emulator/index.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

const HEADER = ['Project', 'Status', 'Comment', 'Due date', 'Owner'];
const ROWS = 24;
const FAST = { read_quota_per_minute: 6000, write_quota_per_minute: 6000 };
const OWNER_RULES = 'The comment must say what was done and what is next.\n"Owner" must not be empty: every project has a named lead.';

/**
 * Rows in twins: rows 2k and 2k+1 have the same status, comment and date and differ only
 * in the owner (empty for every third twin), so only the owner can tell their verdicts apart.
 */
const COMMENTS = [
  'Migrated the billing data; next comes the cutover weekend',
  'Vendor contract signed; the kickoff workshop follows on Monday',
  'Released version 2.3 to every customer, collecting feedback now',
  'Two engineers onboarded, the third one starts next week',
  'Security review closed, minor findings moved to the backlog',
  'Warehouse scanners installed in Lyon; Porto gets them in May',
  'Payroll export rewritten in Go, parallel run with the old job',
  'Call centre script translated to Polish and Czech for pilots',
  'Printer fleet replaced on floors two and three, four pending',
  'Data retention policy approved by legal; purge job scheduled',
  'Mobile app crash rate down to 0.2 percent after the hotfix',
  'Quarterly board pack drafted, finance numbers arrive Thursday',
];

function ownerRows(): string[][] {
  return Array.from({ length: ROWS }, (_, i) => {
    const pair = Math.floor(i / 2);
    const owner = i % 2 === 1 && pair % 3 === 0 ? '' : `Lead ${i + 1}`;
    return [`PRJ-${i + 1}`, 'In progress', COMMENTS[pair] ?? '', '2026-12-01', owner];
  });
}

function bedWith(options: { header?: string[]; config?: Record<string, unknown> } = {}): Promise<Bed> {
  return startBed({
    rows: ownerRows(),
    header: options.header ?? HEADER,
    llm: { latencyMs: 5 },
    columnCount: 14,
    config: {
      columns: { inputs: { owner: 'Owner' } },
      rules: { text: OWNER_RULES },
      // Fuzzy dedup on: twins differing only in the owner must still be asked apart.
      dedup: { fuzzy_threshold: 90 },
      llm: { max_workers: 2 },
      output: { write_batch_size: 5 },
      sheets: FAST,
      ...options.config,
    },
  });
}

/** Every row shows the verdict of its own owner cell, read by header wherever the columns are now. */
function expectOwnerVerdicts(values: string[][]): void {
  const at = (h: string) => col(values, h);
  values.slice(1).forEach((row, i) => {
    const owner = row[at('Owner')] ?? '';
    const expected = owner === '' ? 'INVALID' : 'VALID';
    expect(row[at('Validation')], `row ${i + 2} (${row[at('Project')] ?? ''}, owner "${owner}")`).toBe(expected);
    expect(row[at('Issues')] ?? '', `row ${i + 2}`).toBe(owner === '' ? '"Owner" is empty' : '');
    expect(row[at('Suggested rewrite')], `row ${i + 2}`).toBe(`Rewrite: ${row[at('Comment')] ?? ''}`);
  });
}

describe('an extra input column (columns.inputs)', () => {
  it('decides each row by its own owner; a rerun makes 0 calls; editing one owner cell makes exactly 1', async () => {
    bed = await bedWith();
    const first = await bed.run();
    expect(first.code, first.stderr).toBe(0);
    const empty = ownerRows().filter((r) => r[4] === '').length;
    expect(empty).toBe(4);
    expectOwnerVerdicts(bed.values());
    // One call per row: no twin shared its sibling's answer (exact or fuzzy).
    expect(bed.llm.callCount()).toBe(ROWS);
    // The model saw the owner under its header, after the standard fields.
    const sent = bed.llm.requests.map((r) => r.row).filter((r) => r !== undefined);
    expect(Object.keys(sent[0] ?? {})).toEqual(['status', 'comment', 'completion_date', 'Owner']);
    expect(new Set(sent.map((r) => extraFields(r).Owner))).toEqual(new Set(ownerRows().map((r) => r[4])));

    const calls = bed.llm.callCount();
    const again = await bed.run();
    expect(again.code, again.stderr).toBe(0);
    expect(bed.llm.callCount()).toBe(calls);

    // PRJ-3 (row 4) loses its owner: that row alone is asked again and turns INVALID.
    const owner = col(bed.values(), 'Owner') + 1;
    bed.sheets.setCell(SPREADSHEET_ID, TAB, 4, owner, '');
    const edited = await bed.run();
    expect(edited.code, edited.stderr).toBe(0);
    expect(bed.llm.callCount()).toBe(calls + 1);
    expect(bed.values()[3]?.[col(bed.values(), 'Validation')]).toBe('INVALID');
    expectOwnerVerdicts(bed.values());
  });

  it('carries the owner in packed requests and through the Batch API', async () => {
    bed = await bedWith({ config: { llm: { max_workers: 2, rows_per_request: 4 } } });
    const packed = await bed.run();
    expect(packed.code, packed.stderr).toBe(0);
    expect(bed.llm.callCount()).toBe(ROWS / 4);
    expectOwnerVerdicts(bed.values());

    const b = bed;
    const clock: Clock = {
      now: () => new Date(),
      sleep: async () => {
        for (const batch of b.llm.batches()) if (!['completed', 'failed', 'expired', 'cancelled'].includes(batch.status)) await b.llm.advanceBatch(batch.id, 'completed');
      },
    };
    b.setConfig({ llm: { rows_per_request: 1 } });
    const batch = await b.cli(['run', '--config', b.configPath, '--mode', 'batch', '--every', '1s', '--force'], { clock });
    expect(batch.code, batch.stderr).toBe(0);
    expect(b.llm.batchLineCount()).toBe(ROWS);
    expectOwnerVerdicts(b.values());
  });

  it('stops with the key named when the extra header is missing from the sheet', async () => {
    bed = await bedWith({ header: ['Project', 'Status', 'Comment', 'Due date', 'Lead'] });
    const result = await bed.run();
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('"Owner" (columns.inputs.owner)');
    expect(bed.llm.callCount()).toBe(0);
  });

  it('changes no foreign cell when a column is inserted between the extra input and the outputs mid-run', async () => {
    bed = await bedWith({ header: [...HEADER, ...OUTPUT_HEADERS] });
    const b = bed;
    const guard = foreignGuard(b.sheets, SPREADSHEET_ID, [{ tab: TAB, own: OUTPUT_HEADERS }]);
    let writes = 0;
    let done = false;
    b.sheets.onResponse((call) => {
      if (call.op !== 'values.batchUpdate' || call.status !== 200 || done || ++writes < 1) return;
      guard.checkpoint();
      // Between "Owner" (E) and "Validation" (F).
      b.sheets.insertColumns(SPREADSHEET_ID, TAB, 6);
      b.sheets.setCell(SPREADSHEET_ID, TAB, 1, 6, 'Notes');
      for (let row = 2; row <= ROWS + 1; row += 3) b.sheets.setCell(SPREADSHEET_ID, TAB, row, 6, `note ${row}`);
      guard.rebase();
      done = true;
    });
    const result = await b.run('--json');
    expect(result.code, result.stderr).toBe(0);
    expect(done).toBe(true);
    expect(guard.checkpoint()).toEqual([]);
    expect(b.values()[0]?.slice(4, 7)).toEqual(['Owner', 'Notes', 'Validation']);
    expectOwnerVerdicts(b.values());
  });
});
