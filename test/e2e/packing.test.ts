import { afterEach, describe, expect, it } from 'vitest';
import { col, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

interface Summary {
  llm: { calls: number; promptTokens: number };
  verdicts: { valid: number; invalid: number; error: number };
}

describe('packing several rows per request', () => {
  it('answers 10 rows in 2 requests of 5, each row getting its own verdict, and uses fewer prompt tokens', async () => {
    const rows = sampleRows(10);
    const long = { rules: { text: 'Say what was done, what is next and by when. '.repeat(60) } };
    bed = await startBed({ rows, config: { ...long, llm: { rows_per_request: 5 } } });
    const packed = await bed.run('--json');
    expect(packed.code).toBe(0);
    expect(bed.llm.callCount()).toBe(2);
    const values = bed.values();
    rows.forEach((row, i) => expect(values[i + 1]?.[col(values, 'Suggested rewrite')]).toBe(`Rewrite: ${row[2] ?? ''}`));
    const packedTokens = (JSON.parse(packed.stdout) as Summary).llm.promptTokens;

    const single = await startBed({ rows, config: long });
    try {
      const one = await single.run('--json');
      expect(single.llm.callCount()).toBe(10);
      expect(packedTokens).toBeLessThan((JSON.parse(one.stdout) as Summary).llm.promptTokens / 3);
    } finally {
      await single.close();
    }
  });

  it('asks a row alone when the packed answer leaves it out', async () => {
    bed = await startBed({ rows: sampleRows(4), config: { llm: { rows_per_request: 4 } } });
    // The "model" skips PRJ-0003 in packed answers (a raw string result is left out).
    bed.llm.setRespond((row, req) => {
      const packedRequest = JSON.stringify(req.messages).includes('Rows to validate');
      if (packedRequest && String(row.comment).includes('PRJ-0003')) return 'skipped';
      return { is_valid: true, issues: [], rewrite_suggestion: `Rewrite: ${String(row.comment)}`, confidence: 0.9 };
    });
    const result = await bed.run('--json');
    expect(result.code).toBe(0);
    expect(bed.llm.callCount()).toBe(2);
    const summary = JSON.parse(result.stdout) as Summary;
    expect(summary.verdicts.valid).toBe(4);
  });
});
