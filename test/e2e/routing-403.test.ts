/**
 * A 403 "no access to this model" for the routing's large model refuses that model, not
 * the key: rows the small model can answer are still answered, and only the rows routed
 * to the refused model end ERROR (found by the hostile review of issue 11).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { col, startBed, type Bed } from '../support/bed.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

const LONG = `Done: migrated the billing service on 2026-01-05; next: cut over reporting by 2026-02-01. ${'Details of the work that was done and the work that is next. '.repeat(12)}Review on 2026-03-01; sign-off by 2026-03-15.`;

describe('routing with a large model the key may not use', () => {
  it('keeps answering the simple rows with the small model when the large model answers 403', async () => {
    const rows = [
      ['L-1', 'In progress', LONG, '2026-03-15'],
      ['S-1', 'Done', 'Shipped it.', ''],
      ['S-2', 'Planned', 'Starts next week.', ''],
      ['S-3', 'Done', 'All done.', ''],
    ];
    bed = await startBed({ rows, config: { llm: { max_workers: 1, max_retries: 1, routing: { small: 'gpt-5-mini', large: 'gpt-4.1', threshold: 0.5 } } } });
    bed.llm.injectFault(
      { kind: 'status', status: 403, body: { error: { message: 'You do not have access to the model gpt-4.1.', type: 'invalid_request_error', code: 'model_not_found' } } },
      { times: Infinity, match: (_row, req) => req.model === 'gpt-4.1' },
    );
    const result = await bed.run('--json');
    const values = bed.values();
    const verdicts: Record<string, string> = Object.fromEntries(values.slice(1).map((r): [string, string] => [String(r[0] ?? ''), String(r[col(values, 'Validation')] ?? '')]));
    // Expected: the three simple rows carry a verdict, L-1 is ERROR, exit 3 (some rows ERROR).
    const simple = (v: string | undefined) => (v === 'VALID' || v === 'INVALID' ? 'a verdict' : v);
    expect({ code: result.code, s1: simple(verdicts['S-1']), s2: simple(verdicts['S-2']), s3: simple(verdicts['S-3']), l1: verdicts['L-1'] }, result.stdout + result.stderr).toEqual({
      code: 3,
      s1: 'a verdict',
      s2: 'a verdict',
      s3: 'a verdict',
      l1: 'ERROR',
    });
  });
});
