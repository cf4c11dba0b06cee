/**
 * Issue 22: the notify config, the messages (shapes, escaping, digest), URL redaction,
 * Retry-After and delivery within its budget. Everything parsing outside input gets a
 * property: random input never escapes as an exception, never echoes a credential.
 */
import fc from 'fast-check';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig, type NotifyDestination } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';
import { DIGEST_ROWS, Notifier, deliver, eventsOf, messageBody, rowLink, scrub, signBody, verifySignature, type NotifiedRun } from '../../src/notify/index.js';
import type { RunSummary } from '../../src/pipeline/index.js';
import { retryAfterMs } from '../../src/retry/index.js';

function minimal(notify: unknown): Record<string, unknown> {
  return {
    sheets: { spreadsheet_id: '1AbC-dEf_123', sheet: 'Statuses', credentials_file: './k.json' },
    columns: { status: 'Status', comment: 'Comment' },
    rules: { allowed_statuses: ['Planned', 'Done'], text: 'Say what is next and by when.' },
    llm: { providers: [{ name: 'primary', model: 'gpt-5-mini' }] },
    notify,
  };
}

function summary(over: Partial<RunSummary> = {}): RunSummary {
  return {
    runId: '00000000-0000-4000-8000-000000000001',
    status: 'completed',
    trigger: 'schedule',
    target: 'main',
    dryRun: false,
    spreadsheetId: 'book-1',
    sheet: 'Statuses',
    startedAt: '2026-11-20T07:00:00.000Z',
    endedAt: '2026-11-20T07:01:00.000Z',
    wallMs: 60_000,
    rows: { read: 10, incomplete: 0, upToDate: 0, fromCache: 0, asked: 10, deduplicated: 0, deferred: 0, rechecked: 0, overridden: 0, fuzzyShared: 0, semanticReused: 0, waitingForBatch: 0 },
    waitingForBatch: [],
    llm: { calls: 10, retries: 0, connectionFailures: 0, questions: 10, promptTokens: 100, completionTokens: 10, cachedTokens: 0, cacheHitRate: 0, costUsd: 0.01, naiveCostUsd: null, savedUsd: null, byModel: {}, routing: {}, promptCacheKey: 'k' },
    verdicts: { valid: 8, invalid: 2, error: 0, needsReview: 0 },
    sheetShows: null,
    writes: { calls: 1, rowsWritten: 10, rowsMoved: 0, skipped: [], sheetRetries: 0, headersAdded: [], stopped: [], rowsNotWritten: 0 },
    errors: [],
    warnings: [],
    ...over,
  };
}

const CHAT_URL = 'https://chat.googleapis.com/v1/spaces/AAAAkM/messages?key=AIzaSyDdI0hCZtE6vySjMm&token=O7bnyri_WEXKcyFk%3D';

describe('notify config', () => {
  it('takes a destination with its defaults (on: failed, errors)', () => {
    const config = parseConfig(stringify(minimal([{ url: CHAT_URL, format: 'google_chat' }])), 'c.yaml', {});
    expect(config.notify).toEqual([{ url: CHAT_URL, format: 'google_chat', on: ['failed', 'errors'] }]);
  });

  it('refuses json without secret_env, secret_env on a chat format, an unknown event, and a URL that is not http(s), never echoing the URL', () => {
    const bad = [
      { url: 'https://receiver.example/hook', format: 'json' },
      { url: CHAT_URL, format: 'slack', secret_env: 'X' },
      { url: CHAT_URL, format: 'google_chat', on: ['sometimes'] },
      { url: 'ftp://chat.example/AIzaSyDdI0hCZtE6vySjMm', format: 'google_chat' },
    ];
    let error: unknown;
    try {
      parseConfig(stringify(minimal(bad)), 'c.yaml', {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const text = (error as ConfigError).message;
    expect(text).toContain('notify[0].secret_env');
    expect(text).toContain('notify[1].secret_env');
    expect(text).toContain('notify[2].on[0]');
    expect(text).toContain('notify[3].url');
    expect(text).not.toContain('AIzaSyDdI0hCZtE6vySjMm');
  });

  it('a target may not set notify: it is shared by all targets', () => {
    const data = { ...minimal([]), targets: [{ name: 'a', sheet: 'A', notify: [] }] };
    expect(() => parseConfig(stringify(data), 'c.yaml', {})).toThrow(/a target cannot set notify/);
  });

  it('property: any notify value is taken or refused as a ConfigError naming notify, and never echoes a URL given', () => {
    const urlish = fc.tuple(fc.constantFrom('https://', 'http://', 'ftp://', ''), fc.stringMatching(/^[A-Za-z0-9]{8,20}$/)).map(([s, t]) => `${s}${t}`);
    const value = fc.oneof(
      fc.anything(),
      fc.array(fc.record({ url: fc.oneof(urlish, fc.anything()), format: fc.oneof(fc.constantFrom('google_chat', 'slack', 'json', 'teams'), fc.anything()), on: fc.oneof(fc.array(fc.constantFrom('failed', 'errors', 'invalid', 'finished', 'never')), fc.anything()), secret_env: fc.oneof(fc.constant(undefined), fc.string()) }, { requiredKeys: [] })),
    );
    fc.assert(
      fc.property(value, (notify) => {
        try {
          parseConfig(stringify(minimal(notify)), 'c.yaml', {});
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
          const text = (error as ConfigError).message;
          expect(text).toContain('notify');
          for (const d of Array.isArray(notify) ? (notify as Array<{ url?: unknown }>) : []) {
            if (typeof d?.url === 'string' && d.url.length >= 8 && /^[a-z]*:\/\//.test(d.url)) expect(text).not.toContain(d.url);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('a json destination whose secret is missing or short is a config problem when the notifier is made', () => {
    const d: NotifyDestination = { url: 'https://r.example/h', format: 'json', on: ['failed'], secret_env: 'S' };
    expect(() => Notifier.fromConfig('c.yaml', [d], {})).toThrow(/notify\[0\]\.secret_env.*not set/);
    expect(() => Notifier.fromConfig('c.yaml', [d], { S: 'short' })).toThrow(/at least 16/);
    expect(Notifier.fromConfig('c.yaml', [d], { S: 'x'.repeat(16) }).size).toBe(1);
  });
});

describe('events and messages', () => {
  it('tells failed (1, 2, 4), errors (3), invalid (newly INVALID only) and finished', () => {
    expect([...eventsOf({ summary: summary(), exitCode: 1 })].sort()).toEqual(['failed', 'finished']);
    expect([...eventsOf({ summary: summary(), exitCode: 4, locked: true })].sort()).toEqual(['failed', 'finished']);
    expect([...eventsOf({ summary: summary(), exitCode: 3 })].sort()).toEqual(['errors', 'finished']);
    expect([...eventsOf({ summary: summary(), exitCode: 0 })]).toEqual(['finished']);
    expect([...eventsOf({ summary: summary({ newlyInvalid: { count: 1, rows: [{ row: 2, id: 'P-1' }] } }), exitCode: 0 })].sort()).toEqual(['finished', 'invalid']);
    expect([...eventsOf({ summary: summary({ newlyInvalid: { count: 0, rows: [] } }), exitCode: 0 })]).toEqual(['finished']);
  });

  it('links a row by its tab gid, or the spreadsheet when the gid is unknown', () => {
    expect(rowLink('book-1', 123, 7)).toBe('https://docs.google.com/spreadsheets/d/book-1/edit#gid=123&range=A7');
    expect(rowLink('book-1', undefined, 7)).toBe('https://docs.google.com/spreadsheets/d/book-1/edit');
  });

  it(`lists ${DIGEST_ROWS} newly INVALID rows, then "and N more"`, () => {
    const rows = Array.from({ length: 30 }, (_, i) => ({ row: i + 2, id: `P-${i}` }));
    const run: NotifiedRun = { trigger: 'cli', exitCode: 0, targets: [{ summary: summary({ newlyInvalid: { count: 42, rows } }), exitCode: 0, gid: 5 }] };
    const text = String((JSON.parse(messageBody('google_chat', run, new Date())) as { text: string }).text);
    expect(text.match(/#gid=5&range=A\d+\|/g)).toHaveLength(DIGEST_ROWS);
    expect(text).toContain(`… and ${42 - DIGEST_ROWS} more`);
  });

  const textish = fc.string({ unit: 'grapheme', maxLength: 300 });
  const randomSummary = fc.record({ target: textish, sheet: textish, id: textish, fatal: fc.option(fc.record({ message: textish, hint: fc.option(textish, { nil: undefined }) }), { nil: undefined }), count: fc.nat(1000), status: fc.constantFrom<RunSummary['status']>('completed', 'completed_with_errors', 'interrupted', 'failed') });

  it('property: any target names, ids and errors give a JSON body of the right shape, under the chat size limits, with no link a text could open or close', () => {
    fc.assert(
      fc.property(fc.array(randomSummary, { minLength: 1, maxLength: 40 }), fc.constantFrom<'google_chat' | 'slack' | 'json'>('google_chat', 'slack', 'json'), (targets, format) => {
        const run: NotifiedRun = {
          trigger: 'schedule',
          exitCode: 1,
          targets: targets.map((t) => ({
            summary: summary({ target: t.target, sheet: t.sheet, status: t.status, ...(t.fatal ? { fatal: t.fatal.hint === undefined ? { message: t.fatal.message } : { message: t.fatal.message, hint: t.fatal.hint } } : {}), newlyInvalid: { count: t.count, rows: t.count > 0 ? [{ row: 3, id: t.id }] : [] } }),
            exitCode: t.fatal ? 1 : 0,
            gid: 9,
          })),
        };
        const body = messageBody(format, run, new Date('2026-11-20T07:00:00Z'));
        const parsed = JSON.parse(body) as Record<string, unknown>;
        if (format === 'json') {
          expect(parsed.schema).toBe('status-validator.notification/1');
          expect((parsed.targets as unknown[]).length).toBe(targets.length);
          return;
        }
        expect(Object.keys(parsed)).toEqual(['text']);
        const text = String(parsed.text);
        expect(Buffer.byteLength(body)).toBeLessThan(32_000);
        // Only our own links open with "<": each is <https://docs.google.com/...|label>.
        const opens = text.match(/</g)?.length ?? 0;
        const links = text.match(/<https:\/\/docs\.google\.com\/spreadsheets\/d\/[^|<>]+\|[^|<>]*>/g)?.length ?? 0;
        expect(opens).toBe(links);
      }),
      { numRuns: 150 },
    );
  });
});

describe('redaction and signing', () => {
  it('property: a webhook URL\'s key, token and path secret are scrubbed from any text that quotes them', () => {
    const secret = fc.stringMatching(/^[A-Za-z0-9_-]{8,40}$/);
    fc.assert(
      fc.property(secret, secret, secret, fc.string(), (key, token, path, around) => {
        const chat = `https://chat.googleapis.com/v1/spaces/AAAA/messages?key=${key}&token=${token}`;
        const slack = `https://hooks.slack.com/services/T0/B0/${path}`;
        const text = scrub(`${around} POST ${chat} failed; ${slack}; key=${key} token ${token} ${path}`, [chat, slack]);
        for (const s of [key, token, path, chat, slack]) expect(text).not.toContain(s);
      }),
    );
  });

  it('signs the raw body: any change to the body or the secret fails the check', () => {
    fc.assert(
      fc.property(fc.string(), fc.string({ minLength: 16 }), fc.string({ minLength: 1 }), (body, secret, extra) => {
        const signature = signBody(body, secret);
        expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
        expect(verifySignature(body, signature, secret)).toBe(true);
        expect(verifySignature(body + extra, signature, secret)).toBe(false);
        expect(verifySignature(body, signature, secret + extra)).toBe(false);
      }),
    );
  });

  it('property: a receiver\'s Retry-After, whatever it says, is a wait of 0 to 10 minutes or ignored', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.nat().map(String), fc.date({ noInvalidDate: true }).map((d) => d.toUTCString())), (value) => {
        const wait = retryAfterMs({ 'retry-after': value }, Date.parse('2026-11-20T07:00:00Z'));
        if (wait !== undefined) expect(wait >= 0 && wait <= 600_000).toBe(true);
      }),
    );
  });
});

describe('deliver', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  async function receiverAnswering(answer: (n: number) => { status: number; headers?: Record<string, string> } | 'hang'): Promise<{ url: string; count: () => number }> {
    let n = 0;
    server = createServer((req, res) => {
      n++;
      const a = answer(n);
      req.resume();
      if (a === 'hang') return;
      res.writeHead(a.status, a.headers ?? {});
      res.end('nope');
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', () => resolve()));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook?token=tok-secret-123456`, count: () => n };
  }

  it('does not retry a 400: the destination is wrong, not busy', async () => {
    const r = await receiverAnswering(() => ({ status: 400 }));
    const result = await deliver({ name: 'slack webhook at x', url: r.url, body: '{}', headers: {} }, { deadline: Date.now() + 5000 });
    expect(result).toMatchObject({ ok: false, attempts: 1 });
    expect(r.count()).toBe(1);
    expect(result.reason).toContain('answered 400');
    expect(result.reason).not.toContain('tok-secret-123456');
  });

  it('stops at 5 attempts on 5xx', async () => {
    const r = await receiverAnswering(() => ({ status: 503 }));
    const result = await deliver({ name: 'n', url: r.url, body: '{}', headers: {} }, { deadline: Date.now() + 10_000, random: () => 0 });
    expect(result).toMatchObject({ ok: false, attempts: 5 });
    expect(r.count()).toBe(5);
  });

  it('gives up at once when Retry-After asks for a wait past the deadline', async () => {
    const r = await receiverAnswering(() => ({ status: 429, headers: { 'retry-after': '30' } }));
    const started = Date.now();
    const result = await deliver({ name: 'n', url: r.url, body: '{}', headers: {} }, { deadline: Date.now() + 3000 });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(result).toMatchObject({ ok: false, attempts: 1 });
    expect(result.reason).toContain('a retry in 30 s would end after the time for notifications');
  });

  it('a receiver that never answers costs the budget, not more', async () => {
    const r = await receiverAnswering(() => 'hang');
    const started = Date.now();
    const result = await deliver({ name: 'n', url: r.url, body: '{}', headers: {} }, { deadline: Date.now() + 1500, attemptTimeoutMs: 600, random: () => 0 });
    const took = Date.now() - started;
    expect(took).toBeLessThan(2300);
    expect(took).toBeGreaterThanOrEqual(1100);
    expect(result.ok).toBe(false);
    expect(result.reason).toContain('no answer within');
  });
});
