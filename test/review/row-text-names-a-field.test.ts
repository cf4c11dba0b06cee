/**
 * What: a 400 about ONE row whose message quotes that row's text. Servers and gateways do
 * quote a request's input back: OpenRouter's moderation error carries the flagged input
 * (https://openrouter.ai/docs/api/reference/errors-and-debugging, "flagged_input"), pydantic
 * servers such as vLLM put the offending input in their validation messages
 * (https://docs.pydantic.dev/latest/errors/validation_errors/, "input_value=…"), guardrail
 * proxies echo what they blocked. The fault below is such a 400 for one row.
 *
 * Why it is a defect: the bot looks for "a field it does not accept" anywhere in a 400's
 * message (src/llm/kinds/fields.ts: /'(\w+)' is not (supported|permitted|allowed)/, Unknown
 * name "…", unanchored). A comment that merely says "'max_completion_tokens' is not
 * supported" makes the bot drop that field for EVERY request of the run, store it for a
 * week (provider_fields) and send uncapped requests to an endpoint that never refused it;
 * a comment that says "'Done' is not allowed" is taken for a request field the bot cannot
 * do without and stops the whole run (exit 1) for one row's text. A row's content must never
 * decide what the bot sends for everyone, nor stop the run: that row ends in ERROR, the
 * others get their verdicts, nothing is learned.
 */
import Database from 'better-sqlite3';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { col, startBed, type Bed } from '../support/bed.js';
import { expectedCells } from '../support/inspect.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

const MODEL = 'gpt-5-mini';
const chats = (b: Bed) => b.llm.requests.filter((r) => r.path === '/v1/chat/completions');

async function runWithQuotedRow(comment: string): Promise<{ code: number | null; rows: string[][]; b: Bed }> {
  const rows = sampleRows(30);
  const row = rows[4] as string[];
  row[2] = comment;
  const b = await startBed({ rows, llm: { profile: 'openai', models: [MODEL] }, config: { llm: { max_workers: 2, max_retries: 2 } } });
  b.setConfig({ llm: { providers: [{ name: 'primary', kind: 'openai', model: MODEL, base_url: b.llm.url, api_key_env: 'TEST_OPENAI_KEY' }] } });
  b.llm.injectFault(
    { kind: 'status', status: 400, body: { error: { message: `Input blocked by the content guardrail: "${comment}"`, type: 'invalid_request_error', param: null, code: 'content_policy_violation' } } },
    { times: Infinity, match: (r) => r?.comment === comment },
  );
  bed = b;
  const result = await b.run('--json');
  return { code: result.code, rows, b };
}

function expectOthersAnswered(b: Bed, rows: string[][]): void {
  const values = b.values();
  rows.forEach((row, i) => {
    const verdict = values[i + 1]?.[col(values, 'Validation')];
    if (i === 4) expect(verdict).toBe('ERROR');
    else expect(verdict, row[0]).toBe(expectedCells(row).verdict);
  });
}

describe("a row's own text quoted back in a 400", () => {
  it('does not drop a field for everyone, nor remember it', async () => {
    const { code, rows, b } = await runWithQuotedRow("Vendor says 'max_completion_tokens' is not supported by their export tool; we retry next week.");
    expect(code).toBe(3);
    expectOthersAnswered(b, rows);
    // Every other request still carries the cap the endpoint reads.
    for (const request of chats(b).filter((r) => r.status === 200)) {
      expect(typeof (request.body as Record<string, unknown>)['max_completion_tokens']).toBe('number');
    }
    const db = new Database(path.join(b.dir, 'cache.sqlite'), { readonly: true });
    try {
      expect(db.prepare('SELECT field FROM provider_fields').all()).toEqual([]);
    } finally {
      db.close();
    }
  });

  it('does not stop the run as a configuration error', async () => {
    const { code, rows, b } = await runWithQuotedRow("Marked Done, but the PMO says 'Done' is not allowed until sign-off.");
    expect(code).toBe(3);
    expectOthersAnswered(b, rows);
  });
});

describe("a row's own text that speaks of the answer format, quoted back in a 400", () => {
  it('does not switch structured outputs off for everyone', async () => {
    const { code, rows, b } = await runWithQuotedRow('The export now writes response_format json_schema files; waiting on the vendor.');
    expect(code).toBe(3);
    expectOthersAnswered(b, rows);
    const answered = chats(b).filter((r) => r.status === 200);
    expect(answered.length).toBeGreaterThan(0);
    for (const request of answered) expect(((request.body as Record<string, unknown>)['response_format'] as { type?: unknown }).type).toBe('json_schema');
  });
});

describe("a row's own text that names the model, quoted back in a 400", () => {
  it('is not taken for "no such model" (which would stop the run)', async () => {
    const { code, rows, b } = await runWithQuotedRow(`Checked: ${MODEL} does not exist in the vendor's catalogue yet.`);
    expect(code).toBe(3);
    expectOthersAnswered(b, rows);
  });
});
