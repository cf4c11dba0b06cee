// Issue 18, item 1 (the Recheck box is unticked only when its row got a fresh answer):
// with cache.semantic, a ticked row took a similar row's stored verdict and was unticked unasked.
import { afterEach, describe, expect, it } from 'vitest';
import { SPREADSHEET_ID, TAB, col, startBed, type Bed } from '../support/bed.js';
import { defaultVerdict } from '../support/openai-emulator/index.js';
import { SEMANTIC_CLOSE, SEMANTIC_FIRST } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

const [FIRST, CLOSE] = [SEMANTIC_FIRST, SEMANTIC_CLOSE];

describe('a ticked Recheck box with the semantic cache on', () => {
  it('is asked again, not given a similar row’s stored verdict, and only then unticked', async () => {
    bed = await startBed({ rows: [FIRST], config: { cache: { semantic: true, semantic_threshold: 0.9 }, review: { recheck_column: 'Recheck' } } });
    expect((await bed.run()).code).toBe(0);
    bed.sheets.insertRows(SPREADSHEET_ID, TAB, 3, [CLOSE]);
    expect((await bed.run()).code).toBe(0);
    expect(bed.llm.callCount()).toBe(1); // C-2 reused C-1's verdict
    expect(bed.values()[2]?.[col(bed.values(), 'Issues')]).toMatch(/Verdict reused/);
    const box = col(bed.values(), 'Recheck') + 1;
    bed.sheets.setCell(SPREADSHEET_ID, TAB, 3, box, true);
    bed.llm.setRespond((row, req) => ({ ...defaultVerdict(row, req), issues: ['second look'] }));
    expect((await bed.run()).code).toBe(0);
    expect(bed.llm.callCount()).toBe(2);
    const values = bed.values();
    expect(values[2]?.[col(values, 'Issues')]).toBe('second look');
    expect(bed.sheets.getCell(SPREADSHEET_ID, TAB, 3, box)).toMatchObject({ value: false });
  });
});
