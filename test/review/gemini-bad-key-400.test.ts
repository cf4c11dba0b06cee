/**
 * What: a wrong Gemini key. Google does not answer it with OpenAI's 401: its OpenAI
 * endpoint answers 400 INVALID_ARGUMENT, reason API_KEY_INVALID, "API key not valid. Please
 * pass a valid API key.", in a JSON array body (seen as received:
 * https://github.com/continuedev/continue/issues/8516, and
 * https://github.com/google/timesketch/pull/3703). The gemini profile answered a 401 (kinder
 * than Google); it now answers as Google does.
 *
 * Why it is a defect: the bot only knows a refused key by its 401. Against Gemini its key
 * check (GET /models) proves nothing, every row is sent, each 400 is a row's "rejected"
 * failure: all 40 rows get ERROR and the run exits 3, telling the user nothing about the
 * key. A bad key must stop the run like a bad key elsewhere: exit 1, nothing written, the
 * key's variable named (issue 20: "a config error at a provider stops the run early").
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

describe('Gemini: a wrong key (400 API_KEY_INVALID, not 401)', () => {
  it('stops the run early (exit 1), names the key, writes nothing', async () => {
    const rows = sampleRows(40);
    bed = await startBed({ rows, llm: { profile: 'gemini', models: ['gemini-2.5-flash'] }, config: { llm: { max_workers: 5, max_retries: 3 } } });
    bed.setConfig({ llm: { providers: [{ name: 'gemini', kind: 'gemini', model: 'gemini-2.5-flash', base_url: bed.llm.url, api_key_env: 'TEST_OPENAI_KEY' }] } });
    bed.env['TEST_OPENAI_KEY'] = 'AIzaSy-not-the-right-key-000000000000';
    const result = await bed.run('--json');
    const summary = JSON.parse(result.stdout) as { fatal?: { message: string; hint?: string } };
    expect(result.code, result.stdout).toBe(1);
    expect(summary.fatal?.message).toMatch(/API key not valid/);
    expect(`${summary.fatal?.message} ${summary.fatal?.hint}`).toContain('TEST_OPENAI_KEY');
    // No ERROR written into anyone's row for a key problem.
    expect(bed.values().slice(1)).toEqual(rows);
    expect(bed.llm.requests.filter((r) => r.path === '/v1/chat/completions').length).toBeLessThanOrEqual(5);
  });
});
