import { afterEach, describe, expect, it } from 'vitest';
import { SPREADSHEET_ID, TAB, col, startBed, type Bed } from '../support/bed.js';
import { SEMANTIC_CLOSE, SEMANTIC_FIRST } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

const [FIRST, CLOSE] = [SEMANTIC_FIRST, SEMANTIC_CLOSE];
const OTHER_STATUS = ['C-3', 'Planned', CLOSE[2] ?? '', '2026-12-01'];
const DIFFERENT = ['C-4', 'Done', 'Hired two engineers for the platform team; onboarding plan approved by the leads last week.', '2026-12-01'];

interface Summary {
  rows: { semanticReused: number };
}

describe('semantic cache', () => {
  it('reuses the verdict of a very similar answered row with the same status, marked as reused, and never across statuses', async () => {
    bed = await startBed({ rows: [FIRST], config: { cache: { semantic: true, semantic_threshold: 0.9 } } });
    expect((await bed.run()).code).toBe(0);
    expect(bed.llm.callCount()).toBe(1);

    bed.sheets.insertRows(SPREADSHEET_ID, TAB, 3, [CLOSE, OTHER_STATUS, DIFFERENT]);
    const result = await bed.run('--json');
    expect(result.stderr).not.toContain('Internal error');
    expect(result.code).toBe(0);
    // C-2 reuses C-1's verdict; C-3 (other status) and C-4 (different text) are asked.
    expect(bed.llm.callCount()).toBe(3);
    expect((JSON.parse(result.stdout) as Summary).rows.semanticReused).toBe(1);
    const values = bed.values();
    expect(values[2]?.[col(values, 'Validation')]).toBe(values[1]?.[col(values, 'Validation')]);
    expect(values[2]?.[col(values, 'Issues')]).toMatch(/Verdict reused from a row \d+% similar/);
    expect(values[2]?.[col(values, 'Suggested rewrite')]).toBe('');
    expect(bed.llm.embeddingCallCount()).toBe(2);
  });

  it('is off by default: no embeddings, every distinct row asked', async () => {
    bed = await startBed({ rows: [FIRST, CLOSE] });
    await bed.run();
    expect(bed.llm.callCount()).toBe(2);
    expect(bed.llm.embeddingCallCount()).toBe(0);
  });
});
