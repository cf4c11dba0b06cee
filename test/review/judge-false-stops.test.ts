/**
 * Review of issue 20 item 2 ("a 400 that repeats for every row stops the run",
 * src/llm/refusal-judge.ts): the judge stops runs that are not misconfigured.
 *
 * 1. Per-row content refusals carry the SAME text for every row they hit: OpenAI's
 *    `400 invalid_prompt` "Invalid prompt: your prompt was flagged as potentially violating
 *    our usage policy..." and Azure's `400 content_filter` "The response was filtered due to
 *    the prompt triggering Azure OpenAI's content management policy..."
 *    (https://learn.microsoft.com/en-us/azure/ai-foundry/openai/concepts/content-filter).
 *    Three such rows at the top of a sheet (max_workers 1: they are asked first) make the
 *    judge call it "the configuration": the run exits 1 and writes NOTHING, although every
 *    other row would be answered. Invariant 5 (one row's failure never fails another);
 *    the repo's own e2e test dodges this by suffixing "(case N)" to each message, which the
 *    real providers do not do.
 *
 * 2. With a working fallback provider, a primary that refuses every request with the same
 *    unrecognised 400 stops the whole run as soon as three workers get that 400 at once
 *    (max_workers 5), before the fallback's first answer arrives. Invariant 6: the run stops
 *    only when no provider of any route is left; the judge must not stop a run the fallback
 *    can serve (a refused key merely drops its provider; issue 20 says "like a bad key").
 *
 * Run: npx vitest run test/review/judge-false-stops.test.ts
 */
import { afterEach, describe, expect, it } from 'vitest';
import { API_KEY, col, startBed, type Bed } from '../support/bed.js';
import { expectedCells } from '../support/inspect.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

/** OpenAI's moderation refusal of one prompt: the same words for every prompt it hits. */
const FLAGGED = {
  kind: 'status',
  status: 400,
  body: {
    error: {
      message: 'Invalid prompt: your prompt was flagged as potentially violating our usage policy. Please try again with a different prompt: https://platform.openai.com/docs/guides/reasoning#advice-on-prompting',
      type: 'invalid_request_error',
      param: null,
      code: 'invalid_prompt',
    },
  },
} as const;

/** An unrecognised 400 from a misconfigured primary (e.g. a value its gateway refuses). */
const GATEWAY_400 = { kind: 'status', status: 400, body: { error: { message: 'Invalid request: unsupported configuration for this deployment.', type: 'invalid_request_error', param: null, code: null } } } as const;

function expectRight(b: Bed, rows: string[][], except: ReadonlySet<number>): void {
  const values = b.values();
  rows.forEach((row, i) => {
    const cells = values[i + 1] ?? [];
    if (except.has(i)) expect(cells[col(values, 'Validation')], row[0]).toBe('ERROR');
    else expect({ verdict: cells[col(values, 'Validation')], suggestion: cells[col(values, 'Suggested rewrite')] }, row[0]).toEqual(expectedCells(row));
  });
}

describe('the refusal judge', () => {
  it('three flagged rows at the top of a sheet are those rows’ ERRORs, not a stopped run (exit 3, the rest answered)', async () => {
    const rows = sampleRows(10);
    const b = (bed = await startBed({ rows, config: { llm: { max_workers: 1, max_retries: 1 } } }));
    const flagged = new Set([rows[0]?.[2], rows[1]?.[2], rows[2]?.[2]]);
    b.llm.injectFault(FLAGGED, { times: Infinity, match: (row) => flagged.has(row?.comment) });
    const result = await b.run('--json');
    expect(result.code, result.stdout + result.stderr).toBe(3);
    expectRight(b, rows, new Set([0, 1, 2]));
  });

  it('a primary that refuses every row the same way does not stop a run its fallback serves (max_workers 5)', async () => {
    const rows = sampleRows(12);
    const b = (bed = await startBed({ rows, config: { llm: { max_workers: 5, max_retries: 1 } } }));
    b.env.PRIMARY_KEY = API_KEY;
    b.env.BACKUP_KEY = API_KEY;
    b.setConfig({
      llm: {
        providers: [
          { name: 'primary', model: 'gpt-5-mini', base_url: b.llm.url, api_key_env: 'PRIMARY_KEY' },
          { name: 'backup', model: 'gpt-4.1-mini', base_url: b.llm.url, api_key_env: 'BACKUP_KEY' },
        ],
      },
    });
    b.llm.injectFault(GATEWAY_400, { times: Infinity, match: (_row, req) => req.model === 'gpt-5-mini' });
    const result = await b.run('--json');
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expectRight(b, rows, new Set());
    // Dropped like a bad key, and said so: not asked again for every row once judged.
    const summary = JSON.parse(result.stdout) as { warnings?: string[] };
    expect(summary.warnings?.join('\n')).toMatch(/provider "primary" is not used for the rest of this run: .*Invalid request: unsupported configuration for this deployment\..*the first 3 rows asked were all refused/);
    const primaryAsked = b.llm.requests.filter((r) => r.path === '/v1/chat/completions' && r.model === 'gpt-5-mini');
    expect(primaryAsked.length).toBeLessThanOrEqual(5 + 3);
  });
});
