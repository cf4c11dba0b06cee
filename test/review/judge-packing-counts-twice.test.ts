/**
 * Review of issue 20 item 2 (src/llm/refusal-judge.ts with llm.rows_per_request > 1): the
 * judge is meant to count "distinct questions refused with the same 400", but with packing
 * one malformed row is counted twice: once for the packed request that carries it, and
 * again when that row is asked alone (Validator.validatePacked falls back to one request
 * per row). So TWO rows with their own 400 at the top of a sheet (one in each of the first
 * two packs, asked at once with max_workers 2) make three "same refusals" before any
 * answer, and the run stops as "the configuration", writing nothing, although every other
 * row is answerable. The repo's own test says this very 400 (Google's generic
 * INVALID_ARGUMENT) on one row is "that row's failure alone" (test/e2e/repeated-400.test.ts).
 * Invariant 5: one row's failure never fails another.
 *
 * Run: npx vitest run test/review/judge-packing-counts-twice.test.ts
 */
import { afterEach, expect, it } from 'vitest';
import { col, startBed, type Bed } from '../support/bed.js';
import { expectedCells } from '../support/inspect.js';
import { messageText } from '../support/openai-emulator/index.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

/** Google's generic refusal (https://cloud.google.com/apis/design/errors: INVALID_ARGUMENT), in its JSON-array body. */
const GOOGLE_400 = { kind: 'status', status: 400, body: [{ error: { code: 400, message: 'Request contains an invalid argument.', status: 'INVALID_ARGUMENT' } }] } as const;

it('two malformed rows in the first two packs end as those rows’ ERRORs; the rest are answered (exit 3)', async () => {
  const rows = sampleRows(20);
  const b = (bed = await startBed({ rows, llm: { profile: 'gemini' }, config: { llm: { max_workers: 2, max_retries: 1, rows_per_request: 5 } } }));
  b.setConfig({ llm: { providers: [{ name: 'gemini', kind: 'gemini', model: 'gpt-5-mini', base_url: b.llm.url, api_key_env: 'TEST_OPENAI_KEY' }] } });
  const bad = [rows[0]?.[2] ?? '', rows[5]?.[2] ?? ''];
  b.llm.injectFault(GOOGLE_400, { times: Infinity, match: (_row, req) => req.messages.some((m) => bad.some((comment) => messageText(m).includes(comment))) });
  const result = await b.run('--json');
  expect(result.code, result.stdout + result.stderr).toBe(3);
  const values = b.values();
  rows.forEach((row, i) => {
    const cells = values[i + 1] ?? [];
    if (i === 0 || i === 5) expect(cells[col(values, 'Validation')], row[0]).toBe('ERROR');
    else expect({ verdict: cells[col(values, 'Validation')], suggestion: cells[col(values, 'Suggested rewrite')] }, row[0]).toEqual(expectedCells(row));
  });
});
