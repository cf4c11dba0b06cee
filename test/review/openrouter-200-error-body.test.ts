/**
 * What: OpenRouter answers 200 when the model had started to process the request, and puts
 * the error in the body: "Otherwise, the returned HTTP response status will be 200 and any
 * error occurred while the LLM is producing the output will be emitted in the response body"
 * (https://openrouter.ai/docs/api/reference/errors-and-debugging), e.g.
 * {"error":{"code":502,"message":"…"}} with no choices. The openrouter profile never does
 * this (kinder than OpenRouter); the fault below is that answer for one row.
 *
 * Why it is a defect: the bot reads `data.choices[0]` of a body that has no choices, throws a
 * TypeError and reports it as "could not reach provider … Cannot read properties of
 * undefined" — an internal error text in the row's Issues cell, blaming the network, while
 * OpenRouter said what happened. The row must end with OpenRouter's own message.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { col, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

const MODEL = 'meta-llama/llama-3.3-70b-instruct';

describe('OpenRouter: an error in a 200 body', () => {
  it("the row's Issues cell carries OpenRouter's message, not a TypeError", async () => {
    const rows = sampleRows(4);
    bed = await startBed({ rows, llm: { profile: 'openrouter', models: [MODEL] }, config: { llm: { max_workers: 2, max_retries: 1 } } });
    bed.setConfig({ llm: { providers: [{ name: 'openrouter', kind: 'openrouter', model: MODEL, base_url: bed.llm.url, api_key_env: 'TEST_OPENAI_KEY' }] } });
    const comment = rows[1]?.[2] ?? '';
    bed.llm.injectFault(
      { kind: 'status', status: 200, body: { error: { code: 502, message: 'Upstream error from DeepInfra: model overloaded', metadata: { provider_name: 'DeepInfra' } } } },
      { times: Infinity, match: (row) => row?.comment === comment },
    );
    const result = await bed.run('--json');
    expect(result.code, result.stdout).toBe(3);
    const values = bed.values();
    const issues = values[2]?.[col(values, 'Issues')] ?? '';
    expect(values[2]?.[col(values, 'Validation')]).toBe('ERROR');
    expect(issues).toContain('Upstream error from DeepInfra');
    expect(issues).not.toMatch(/Cannot read properties|could not reach/);
  });
});
