/**
 * What: Anthropic answers every request of an account without credit with
 * 400 {"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance
 * is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase
 * credits."}} (as received: https://github.com/anthropics/claude-code/issues/4208,
 * https://github.com/anthropics/claude-quickstarts/issues/229; its error shapes:
 * https://docs.claude.com/en/api/errors). The anthropic profile never answers it (kinder than
 * Anthropic); the fault below is that answer to every request.
 *
 * Why it is a defect: issue 20 — "a 400 that repeats for every row is a configuration
 * problem, not a row's failure: the run stops early like a bad key (exit 1, the provider's
 * own message), and writes nothing into the sheet". The bot reads this 400 as one row's
 * "rejected" request, sends every row, writes ERROR into all of them and exits 3.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

describe('Anthropic: no credit left (a 400 on every request)', () => {
  it('stops the run early (exit 1) with Anthropic’s message, writes nothing', async () => {
    const rows = sampleRows(40);
    bed = await startBed({ rows, llm: { profile: 'anthropic', models: ['claude-sonnet-4-5'] }, config: { llm: { max_workers: 5, max_retries: 3 } } });
    bed.setConfig({ llm: { providers: [{ name: 'claude', kind: 'anthropic', model: 'claude-sonnet-4-5', base_url: bed.llm.url, api_key_env: 'TEST_OPENAI_KEY' }] } });
    bed.llm.injectFault(
      {
        kind: 'status',
        status: 400,
        body: { type: 'error', error: { type: 'invalid_request_error', message: 'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.' } },
      },
      { times: Infinity },
    );
    const result = await bed.run('--json');
    const summary = JSON.parse(result.stdout) as { fatal?: { message: string } };
    expect(result.code, result.stdout).toBe(1);
    expect(summary.fatal?.message).toContain('credit balance is too low');
    expect(bed.values().slice(1)).toEqual(rows);
    expect(bed.llm.requests.filter((r) => r.path === '/v1/chat/completions').length).toBeLessThanOrEqual(10);
  });
});
