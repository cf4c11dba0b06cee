/**
 * What: a vLLM server from before vllm-project/vllm#10463 (v0.6.5, Nov 2024; still common
 * in company clusters) forbids fields it does not know. Its 400 is
 * {"object":"error","message":"[{'type': 'extra_forbidden', 'loc': ('body', 'FIELD'),
 * 'msg': 'Extra inputs are not permitted', 'input': …}]","type":"BadRequestError",
 * "param":null,"code":400} — as received in https://github.com/1Panel-dev/MaxKB/issues/2912
 * (for max_completion_tokens) and https://github.com/modelscope/ms-agent/issues/489, and
 * quoted in the PR itself (https://github.com/vllm-project/vllm/pull/10463). The vllm profile
 * accepts everything (kinder than those servers); the fault below is their answer.
 *
 * Why it is a defect: a vLLM base_url is detected as `generic`, which sends
 * prompt_cache_key. The refusal names the field in pydantic's words, which none of the
 * bot's patterns (src/llm/kinds/fields.ts) reads: nothing is learned, every row is sent,
 * refused and written ERROR (exit 3) — the very "breaks at the first request" issue 20
 * set out to end ("a 400 that names a field … and their kin drops that field").
 */
import { afterEach, describe, expect, it } from 'vitest';
import { col, startBed, type Bed } from '../support/bed.js';
import { expectedCells } from '../support/inspect.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

describe('an older vLLM that forbids extra fields', () => {
  it('prompt_cache_key refused in pydantic words is learned and dropped; every verdict right', async () => {
    const rows = sampleRows(12);
    bed = await startBed({ rows, llm: { profile: 'vllm', models: ['Qwen/Qwen2.5-7B-Instruct'] }, config: { llm: { max_workers: 3, max_retries: 2 } } });
    bed.setConfig({ llm: { providers: [{ name: 'vllm', model: 'Qwen/Qwen2.5-7B-Instruct', base_url: bed.llm.url, api_key_env: 'TEST_OPENAI_KEY' }] } });
    bed.llm.injectFault(
      {
        kind: 'status',
        status: 400,
        body: {
          object: 'error',
          message: "[{'type': 'extra_forbidden', 'loc': ('body', 'prompt_cache_key'), 'msg': 'Extra inputs are not permitted', 'input': 'sv-3f2a'}]",
          type: 'BadRequestError',
          param: null,
          code: 400,
        },
      },
      { times: Infinity, match: (_row, req) => 'prompt_cache_key' in req },
    );
    const result = await bed.run('--json');
    expect(result.code, result.stdout).toBe(0);
    const values = bed.values();
    rows.forEach((row, i) => expect(values[i + 1]?.[col(values, 'Validation')], row[0]).toBe(expectedCells(row).verdict));
  });
});
