/**
 * Review of issue 14 (columns.inputs): an extra input whose header is one of the bot's
 * own JSON keys gets the key "HEADER (column)" (prompt.ts extraKey). A second extra input
 * whose header is literally "status (column)" then gets the same JSON key: the row sent
 * to the model carries one of the two values only, so the verdict (cached under a key
 * that includes both) was computed without one input the rules speak of. The config
 * check does not refuse the pair (their headers differ).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startBed, type Bed } from '../support/bed.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

describe('extra inputs whose JSON keys collide in the prompt', () => {
  it('every configured input value reaches the model (or the config is refused)', async () => {
    bed = await startBed({ header: ['Project', 'Comment', 'status', 'status (column)'], rows: [['P-1', 'Did X, next Y by Friday.', 'VALUE-ONE', 'VALUE-TWO']] });
    bed.setConfig({
      columns: { status: undefined, completion_date: undefined, inputs: { a: 'status', b: 'status (column)' } },
      rules: { allowed_statuses: undefined, text: 'The comment must say what was done. "status" and "status (column)" must not be empty.' },
    });
    const result = await bed.run();
    if (result.code === 2) return expect(result.stderr).toMatch(/status \(column\)/); // refused, naming the clash: fine
    expect(result.code).toBe(0);
    const bodies = bed.llm.requests.map((r) => JSON.stringify(r.body));
    expect(bodies).toHaveLength(1);
    expect(bodies[0]).toContain('VALUE-ONE');
    expect(bodies[0]).toContain('VALUE-TWO');
  });
});
