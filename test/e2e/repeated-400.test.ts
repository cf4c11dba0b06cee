/**
 * Issue 20, item 2's gap: "A 400 that repeats for every row is a configuration problem,
 * not a row's failure: the run stops early like a bad key (exit 1, the provider's own
 * message), and writes nothing into the sheet." A 400 the bot does not recognise (not a
 * field, not a model) refusing the first three distinct rows the same way, before any
 * answer, stops the run; a row's own 400 still ends that row alone as ERROR (exit 3).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { col, startBed, type Bed } from '../support/bed.js';
import { expectedCells } from '../support/inspect.js';
import type { ProfileName } from '../support/openai-emulator/index.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

interface Summary {
  status: string;
  fatal?: { message: string; hint?: string };
}

/** Google's generic refusal (https://cloud.google.com/apis/design/errors: INVALID_ARGUMENT), in its JSON-array body. */
const GOOGLE_400 = { kind: 'status', status: 400, body: [{ error: { code: 400, message: 'Request contains an invalid argument.', status: 'INVALID_ARGUMENT' } }] } as const;
/** OpenAI's shape, for a value it refuses without naming a field the bot could drop. */
const openai400 = (message: string) => ({ kind: 'status', status: 400, body: { error: { message, type: 'invalid_request_error', param: null, code: null } } }) as const;

async function bedOf(profile: ProfileName, rows: string[][], workers = 5): Promise<Bed> {
  bed = await startBed({ rows, llm: { profile }, config: { llm: { max_workers: workers, max_retries: 2 } } });
  bed.setConfig({ llm: { providers: [{ name: profile, kind: profile, model: 'gpt-5-mini', base_url: bed.llm.url, api_key_env: 'TEST_OPENAI_KEY' }] } });
  return bed;
}

const chats = (b: Bed) => b.llm.requests.filter((r) => r.path === '/v1/chat/completions');

function expectRight(b: Bed, rows: string[][], except: ReadonlySet<number> = new Set()): void {
  const values = b.values();
  rows.forEach((row, i) => {
    if (except.has(i)) return;
    const cells = values[i + 1] ?? [];
    expect({ verdict: cells[col(values, 'Validation')], suggestion: cells[col(values, 'Suggested rewrite')] }, row[0]).toEqual(expectedCells(row));
  });
}

describe('a 400 every row gets', () => {
  it.each([1, 5])('stops the run (exit 1) with the provider’s own message, after three rows, writing nothing (max_workers %i)', async (workers) => {
    const rows = sampleRows(30);
    const b = await bedOf('gemini', rows, workers);
    b.llm.injectFault(GOOGLE_400, { times: Infinity });
    const result = await b.run('--json');
    expect(result.code, result.stderr).toBe(1);
    const summary = JSON.parse(result.stdout) as Summary;
    expect(summary.fatal?.message).toContain('rejected the request (400: Request contains an invalid argument.)');
    expect(summary.fatal?.message).toMatch(/the first 3 rows asked were all refused with this same answer/);
    expect(summary.fatal?.hint).toMatch(/Check llm\.providers "gemini": the model name \(gpt-5-mini\)/);
    // No row changed: neither ERROR nor a verdict.
    expect(b.values().slice(1)).toEqual(rows);
    // Stopped early: the three that made the judgement and those already in flight.
    expect(chats(b).length).toBeGreaterThanOrEqual(3);
    expect(chats(b).length).toBeLessThanOrEqual(workers + 3);
  });

  it('a 400 that differs from row to row is each row’s own: all ERROR, written at the end, exit 3', async () => {
    const rows = sampleRows(4);
    const b = await bedOf('openai', rows, 2);
    let n = 0;
    for (const row of rows) b.llm.injectFault(openai400(`Invalid prompt: your prompt was flagged as potentially violating our usage policy (case ${++n}).`), { times: Infinity, match: (r) => r?.comment === row[2] });
    const result = await b.run('--json');
    expect(result.code, result.stderr).toBe(3);
    const values = b.values();
    for (let i = 1; i <= rows.length; i++) {
      expect(values[i]?.[col(values, 'Validation')]).toBe('ERROR');
      expect(values[i]?.[col(values, 'Issues')]).toMatch(/usage policy \(case \d\)/);
    }
  });
});

/**
 * Azure's content filter refusing a prompt: the same words for every row it hits, code
 * content_filter, innererror ResponsibleAIPolicyViolation
 * (https://learn.microsoft.com/en-us/azure/ai-foundry/openai/concepts/content-filter).
 */
const AZURE_FILTERED = {
  kind: 'status',
  status: 400,
  body: {
    error: {
      message: "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766",
      type: null,
      param: 'prompt',
      code: 'content_filter',
      status: 400,
      innererror: { code: 'ResponsibleAIPolicyViolation', content_filter_result: { violence: { filtered: true, severity: 'medium' } } },
    },
  },
} as const;

describe('a content filter’s 400, the same words for every row it hits', () => {
  it('Azure content_filter on the first three rows: those rows ERROR (saying the content was refused), the rest answered, exit 3', async () => {
    const rows = sampleRows(8);
    bed = await startBed({ rows, llm: { profile: 'azure' }, config: { llm: { max_workers: 1, max_retries: 1 } } });
    const origin = new URL(bed.llm.url).origin;
    bed.setConfig({ llm: { providers: [{ name: 'azure', kind: 'azure', model: 'gpt-5-mini', base_url: `${origin}/openai/deployments/gpt-5-mini?api-version=2024-10-21`, api_key_env: 'TEST_OPENAI_KEY' }] } });
    const flagged = new Set([rows[0]?.[2], rows[1]?.[2], rows[2]?.[2]]);
    bed.llm.injectFault(AZURE_FILTERED, { times: Infinity, match: (row) => flagged.has(row?.comment) });
    const result = await bed.run('--json');
    expect(result.code, result.stdout + result.stderr).toBe(3);
    const values = bed.values();
    for (let i = 1; i <= 3; i++) {
      expect(values[i]?.[col(values, 'Validation')]).toBe('ERROR');
      expect(values[i]?.[col(values, 'Issues')]).toMatch(/refused this request's content \(400 content_filter: The response was filtered/);
    }
    expectRight(bed, rows, new Set([0, 1, 2]));
  });
});

describe("a row's own 400", () => {
  it.each([1, 5])('ends that row alone as ERROR; the rest right, exit 3 (max_workers %i, the row asked first)', async (workers) => {
    const rows = sampleRows(12);
    const b = await bedOf('gemini', rows, workers);
    const bad = rows[0]?.[2];
    b.llm.injectFault(GOOGLE_400, { times: Infinity, match: (row) => row?.comment === bad });
    const result = await b.run('--json');
    expect(result.code, result.stderr).toBe(3);
    const values = b.values();
    expect(values[1]?.[col(values, 'Validation')]).toBe('ERROR');
    expect(values[1]?.[col(values, 'Issues')]).toContain('Request contains an invalid argument.');
    expectRight(b, rows, new Set([0]));
  });
});
