/**
 * Issue 11, item 5: a 429 whose retry can never succeed ("Request too large … on tokens
 * per min") is that row's ERROR at once, saying what to change; it is not a rate limit,
 * so no retry and no pause or slowdown of the other workers. insufficient_quota stays
 * fatal (test/e2e/faults.test.ts, provider-faults.test.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { col, startBed, type Bed } from '../support/bed.js';
import { expectedCells } from '../support/inspect.js';
import { messageText, type ChatRequest, type RecordedRequest } from '../support/openai-emulator/index.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

const mentions = (req: Pick<ChatRequest, 'messages'>, ref: string) => req.messages.some((m) => messageText(m).includes(`(ref ${ref})`));
const chats = (b: Bed) => b.llm.requests.filter((r) => r.path === '/v1/chat/completions');
const about = (b: Bed, ref: string) => chats(b).filter((r) => Array.isArray((r.body as ChatRequest | undefined)?.messages) && mentions(r.body as ChatRequest, ref));

/** The most requests open at once among those that started after `after` (ms). */
function peakAfter(requests: readonly RecordedRequest[], after: number): number {
  const later = requests.filter((r) => r.startedAt >= after);
  return Math.max(0, ...later.map((r) => later.filter((o) => o.startedAt <= r.startedAt && (o.endedAt ?? Infinity) > r.startedAt).length));
}

interface Summary {
  llm: { retries: number };
  errors: Array<{ id: string; reason: string }>;
}

describe('a request too large for the tokens-per-minute limit', () => {
  it('ends that row ERROR at once, saying what to change, and the others keep every worker busy', async () => {
    const rows = sampleRows(24);
    bed = await startBed({ rows, llm: { latencyMs: 40 }, config: { llm: { max_workers: 4, max_retries: 3 } } });
    bed.llm.injectFault({ kind: 'request_too_large', limit: 30_000, requested: 36_278 }, { times: Infinity, match: (_row, req) => mentions(req, 'PRJ-0002') });

    const result = await bed.run('--json');
    expect(result.code, result.stderr).toBe(3);
    const summary = JSON.parse(result.stdout) as Summary;
    expect(summary.errors.map((e) => e.id)).toEqual(['PRJ-0002']);
    const reason = summary.errors[0]?.reason ?? '';
    expect(reason).toMatch(/larger than the account's tokens-per-minute limit/);
    expect(reason).toContain('Limit 30000, Requested 36278');
    for (const fix of ['llm.max_comment_chars', 'rules text', 'another model']) expect(reason).toContain(fix);

    // Asked once: no retry, and no retry counted for anyone.
    const tooLarge = about(bed, 'PRJ-0002');
    expect(tooLarge).toHaveLength(1);
    expect(summary.llm.retries).toBe(0);
    // After the 429 every worker went on at once (no shared cool-down, no halved concurrency).
    expect(peakAfter(chats(bed), tooLarge[0]?.endedAt ?? 0)).toBe(4);

    const values = bed.values();
    rows.forEach((row, i) => {
      const cells = values[i + 1] ?? [];
      if (row[0] === 'PRJ-0002') expect(cells[col(values, 'Validation')]).toBe('ERROR');
      else expect({ verdict: cells[col(values, 'Validation')], suggestion: cells[col(values, 'Suggested rewrite')] }, row[0]).toEqual(expectedCells(row));
    });
  });

  it('treats any 429 whose request exceeds the whole limit (here a daily one) as never fitting', async () => {
    const rows = sampleRows(4);
    bed = await startBed({ rows, config: { llm: { max_retries: 3 } } });
    const body = {
      error: { message: 'Rate limit reached for gpt-5-mini in organization org-x on tokens per day (TPD): Limit 90000, Requested 120000.', type: 'tokens', param: null, code: 'rate_limit_exceeded' },
    };
    bed.llm.injectFault({ kind: 'status', status: 429, body }, { times: Infinity, match: (_row, req) => mentions(req, 'PRJ-0003') });
    const result = await bed.run('--json');
    expect(result.code, result.stderr).toBe(3);
    expect(about(bed, 'PRJ-0003')).toHaveLength(1);
    expect((JSON.parse(result.stdout) as Summary).errors[0]?.reason).toMatch(/waiting will not help/);
  });

  it('still retries an ordinary rate limit that says how much is used', async () => {
    const rows = sampleRows(2);
    bed = await startBed({ rows, config: { llm: { max_retries: 3 } } });
    const body = {
      error: { message: 'Rate limit reached for gpt-5-mini in organization org-x on tokens per min (TPM): Limit 30000, Used 29000, Requested 2000. Please try again in 2ms.', type: 'tokens', param: null, code: 'rate_limit_exceeded' },
    };
    bed.llm.injectFault({ kind: 'status', status: 429, body, headers: { 'retry-after-ms': '5' } }, { times: 1, match: (_row, req) => mentions(req, 'PRJ-0001') });
    const result = await bed.run();
    expect(result.code, result.stderr).toBe(0);
    expect(about(bed, 'PRJ-0001')).toHaveLength(2);
  });

  it('asks the rows of a packed request too large one by one, and only the row too large alone fails', async () => {
    const rows = sampleRows(6);
    bed = await startBed({ rows, config: { llm: { rows_per_request: 3, max_retries: 2 } } });
    bed.llm.injectFault({ kind: 'request_too_large' }, { times: Infinity, match: (_row, req) => mentions(req, 'PRJ-0005') });
    const result = await bed.run('--json');
    expect(result.code, result.stderr).toBe(3);
    expect((JSON.parse(result.stdout) as Summary).errors.map((e) => e.id)).toEqual(['PRJ-0005']);
    // The packed request once, then each of its three rows once.
    expect(about(bed, 'PRJ-0005')).toHaveLength(2);
  });
});
