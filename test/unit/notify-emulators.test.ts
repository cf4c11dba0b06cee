/**
 * The test doubles of issue 22 are as unkind as what they stand for: the webhook
 * receiver refuses what Google Chat and Slack refuse, and the exposition parser refuses
 * what Prometheus refuses. Our own bodies and prom-client's output pass them.
 */
import fc from 'fast-check';
import { Counter, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { messageBody, type NotifiedRun } from '../../src/notify/index.js';
import { Metrics } from '../../src/metrics/index.js';
import { parseExposition, valueOf } from '../support/prom-text.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

let receiver: WebhookReceiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

async function post(url: string, body: string, type = 'application/json'): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': type } });
  return { status: res.status, text: await res.text() };
}

const RUN: NotifiedRun = {
  trigger: 'cli',
  exitCode: 0,
  targets: [
    {
      exitCode: 0,
      summary: {
        runId: 'r', status: 'completed', trigger: 'cli', target: 't', dryRun: false, spreadsheetId: 's', sheet: 'S', startedAt: '', endedAt: '', wallMs: 0,
        rows: { read: 1, incomplete: 0, upToDate: 0, fromCache: 0, asked: 1, deduplicated: 0, deferred: 0, rechecked: 0, overridden: 0, fuzzyShared: 0, semanticReused: 0, waitingForBatch: 0 },
        waitingForBatch: [],
        llm: { calls: 1, retries: 0, connectionFailures: 0, questions: 1, promptTokens: 1, completionTokens: 1, cachedTokens: 0, cacheHitRate: 0, costUsd: 0, naiveCostUsd: null, savedUsd: null, byModel: {}, routing: {}, promptCacheKey: '' },
        verdicts: { valid: 1, invalid: 0, error: 0, needsReview: 0 }, sheetShows: null,
        writes: { calls: 1, rowsWritten: 1, rowsMoved: 0, skipped: [], sheetRetries: 0, headersAdded: [], stopped: [], rowsNotWritten: 0 },
        errors: [], warnings: [],
      },
    },
  ],
};

describe('webhook receiver', () => {
  it('answers like Slack: ok for our message, invalid_payload for what is not JSON, no_text for a message without text, no_service elsewhere', async () => {
    receiver = await startWebhookReceiver();
    expect(await post(receiver.slackUrl, messageBody('slack', RUN, new Date()))).toEqual({ status: 200, text: 'ok' });
    expect(await post(receiver.slackUrl, 'text=hello', 'application/x-www-form-urlencoded')).toEqual({ status: 400, text: 'invalid_payload' });
    expect(await post(receiver.slackUrl, '{"text": ')).toEqual({ status: 400, text: 'invalid_payload' });
    expect(await post(receiver.slackUrl, '{}')).toEqual({ status: 400, text: 'no_text' });
    expect(await post(receiver.slackUrl, '{"text": "   "}')).toEqual({ status: 400, text: 'no_text' });
    expect(await post(receiver.slackUrl.replace(/\/[^/]+$/, '/wrong'), '{"text":"x"}')).toEqual({ status: 404, text: 'no_service' });
  });

  it('answers like Google Chat: a message for ours, 400 for an unknown field, an empty message or bad JSON, 401 without the token', async () => {
    receiver = await startWebhookReceiver();
    const ok = await post(receiver.chatUrl, messageBody('google_chat', RUN, new Date()));
    expect(ok.status).toBe(200);
    expect((JSON.parse(ok.text) as { name: string }).name).toMatch(/^spaces\//);
    const unknown = await post(receiver.chatUrl, '{"text":"x","blocks":[]}');
    expect(unknown.status).toBe(400);
    expect(unknown.text).toContain('Unknown name \\"blocks\\"');
    expect((await post(receiver.chatUrl, '{}')).text).toContain('Message cannot be empty');
    expect((await post(receiver.chatUrl, 'nope')).status).toBe(400);
    expect((await post(receiver.chatUrl, JSON.stringify({ text: 'x'.repeat(33_000) }))).status).toBe(400);
    expect((await post(receiver.chatUrl.replace(/&token=.*$/, ''), '{"text":"x"}')).status).toBe(401);
  });

  it('throttles a space past 60 messages a minute with 429 RESOURCE_EXHAUSTED', async () => {
    receiver = await startWebhookReceiver();
    const statuses: number[] = [];
    for (let i = 0; i < 61; i++) statuses.push((await post(receiver.chatUrl, '{"text":"x"}')).status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(60);
    expect(statuses.at(-1)).toBe(429);
  });
});

describe('exposition parser', () => {
  const refused: Array<[string, string]> = [
    ['no final newline', 'a 1'],
    ['a bad metric name', '1a 1\n'],
    ['a bad value', 'a one\n'],
    ['a bad escape', 'a{l="\\t"} 1\n'],
    ['a label twice', 'a{l="1",l="2"} 1\n'],
    ['a reserved label name', 'a{__l="1"} 1\n'],
    ['a series twice', 'a{l="1"} 1\na{l="1"} 2\n'],
    ['TYPE after samples', 'a 1\n# TYPE a counter\n'],
    ['a second TYPE', '# TYPE a counter\n# TYPE a counter\na 1\n'],
    ['an unknown type', '# TYPE a meter\na 1\n'],
    ['a family split', 'a 1\nb 1\na{l="x"} 1\n'],
    ['a negative counter', '# TYPE a counter\na -1\n'],
    ['a histogram without +Inf', '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n'],
    ['a histogram not cumulative', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'],
    ['a histogram whose +Inf is not its count', '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 1\n'],
  ];
  it.each(refused)('refuses %s', (_what, text) => {
    expect(() => parseExposition(text)).toThrow();
  });

  it('takes what the format allows: comments, blank lines, escapes, NaN and infinities, timestamps', () => {
    const f = parseExposition('# a comment\n\n# HELP a the \\\\ help\\n\n# TYPE a gauge\na{l="q\\"\\\\\\n",m="x",} NaN 1700000000000\nb +Inf\nc -Inf\n');
    expect(f.get('a')?.samples[0]?.labels).toEqual({ l: 'q"\\\n', m: 'x' });
    expect(valueOf(f, 'b')).toBe(Number.POSITIVE_INFINITY);
  });

  it('property: prom-client output for any label values parses, each value read back as written', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.string({ maxLength: 30 }), { minLength: 1, maxLength: 8 }), async (values) => {
        const registry = new Registry();
        const counter = new Counter({ name: 'status_validator_x_total', help: 'x \\ and\nnewline', labelNames: ['target'], registers: [registry] });
        values.forEach((v, i) => counter.inc({ target: v }, i + 1));
        const f = parseExposition(await registry.metrics());
        values.forEach((v, i) => expect(valueOf(f, 'status_validator_x_total', { target: v })).toBe(i + 1));
      }),
      { numRuns: 100 },
    );
  });

  it('our whole registry parses, before any run and after one', async () => {
    const metrics = new Metrics();
    parseExposition((await metrics.exposition()).body);
    metrics.runEnded({ summary: { ...RUN.targets[0]!.summary, wallMs: 1234, endedAt: '2026-11-20T07:00:00.000Z', llm: { ...RUN.targets[0]!.summary.llm, byModel: { m: { calls: 2, promptTokens: 10, completionTokens: 5, cachedTokens: 4, costUsd: 0.5 } } } }, exitCode: 0, locked: false, providerOf: () => 'p' });
    const f = parseExposition((await metrics.exposition()).body);
    expect(valueOf(f, 'status_validator_llm_tokens_total', { kind: 'cached', model: 'm' })).toBe(4);
    expect(valueOf(f, 'status_validator_run_duration_seconds_sum', { target: 't' })).toBeCloseTo(1.234);
  });
});
