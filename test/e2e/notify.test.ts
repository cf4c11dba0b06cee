/**
 * Issue 22: notifications reach a local receiver (emulating Google Chat's and Slack's
 * incoming webhooks, and a plain json receiver) in the documented shape, once per run and
 * destination; a receiver that fails, throttles or never answers changes nothing about the
 * run but a warning; no secret is in any captured request, and no webhook credential in
 * any output.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { API_KEY, SPREADSHEET_ID, TAB, col, startBed, testPrivateKey, type Bed } from '../support/bed.js';
import { hostname } from 'node:os';
import { SqliteStore } from '../../src/cache/index.js';
import { closedPort } from '../support/closed-port.js';
import { insertLock, liveStranger, runRows } from '../support/inspect.js';
import { virtualClock } from '../support/virtual-clock.js';
import { SERVE_TOKEN, startServe } from '../support/serve.js';
import { sampleRows } from '../support/sample-data.js';
import { CHAT_KEY, CHAT_TOKEN, SLACK_SECRET, startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';
import { verifySignature } from '../../src/notify/index.js';
import { messageText, type ChatRequest } from '../support/openai-emulator/index.js';

let bed: Bed | undefined;
let receiver: WebhookReceiver | undefined;
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await Promise.all([bed?.close(), receiver?.close()]);
  bed = undefined;
  receiver = undefined;
});

const SECRET = 'whsec-0123456789abcdef0123456789abcdef';
const cacheOf = (b: Bed) => String((b.config.cache as { path: string }).path);
const mentions = (req: Pick<ChatRequest, 'messages'>, ref: string) => req.messages.some((m) => messageText(m).includes(`(ref ${ref})`));

/** The ids of the rows the tab shows INVALID. */
function invalidIds(b: Bed): string[] {
  const values = b.values();
  const verdict = col(values, 'Validation');
  return values.slice(1).filter((r) => r[verdict] === 'INVALID').map((r) => r[0] ?? '');
}

/** Every credential of the run and of the webhooks: none may be in a body or a header sent, nor in any output. */
function secretsOf(): string[] {
  const keyBody = testPrivateKey().split('\n').filter((l) => l.length > 40)[0] ?? 'never';
  return [API_KEY, keyBody, SECRET, CHAT_KEY, decodeURIComponent(CHAT_TOKEN), SLACK_SECRET];
}

function expectNoSecretIn(text: string, allowed: readonly string[] = []): void {
  for (const secret of secretsOf()) if (!allowed.includes(secret)) expect(text.includes(secret), `a secret leaked: ${secret.slice(0, 6)}…`).toBe(false);
}

describe('notify', () => {
  it('a run with newly INVALID rows posts one Google Chat message naming and linking them; a rerun sends nothing', async () => {
    receiver = await startWebhookReceiver();
    bed = await startBed({ rows: sampleRows(8), config: { notify: [{ url: receiver.chatUrl, format: 'google_chat', on: ['invalid'] }] } });
    const first = await bed.run();
    expect(first.code, first.stderr).toBe(0);
    const invalid = invalidIds(bed);
    expect(invalid.length).toBeGreaterThan(0);
    expect(receiver.requests).toHaveLength(1);
    const [request] = receiver.requests;
    expect(request?.status).toBe(200);
    expect(request?.headers['content-type']).toMatch(/^application\/json/);
    const message = JSON.parse(request?.body ?? '{}') as Record<string, unknown>;
    expect(Object.keys(message)).toEqual(['text']);
    const text = String(message.text);
    expect(text).toContain(`${invalid.length} ${invalid.length === 1 ? 'row' : 'rows'} newly INVALID`);
    const gid = bed.sheets.sheetId(SPREADSHEET_ID, TAB);
    for (const id of invalid) {
      const row = bed.values().findIndex((r) => r[0] === id) + 1;
      expect(text).toContain(`<https://docs.google.com/spreadsheets/d/${SPREADSHEET_ID}/edit#gid=${gid}&range=`);
      expect(text).toContain(`&range=A${row}|${TAB} row ${row} (${id})>`);
    }
    // Nothing changed: nothing newly INVALID, nothing sent.
    const second = await bed.run();
    expect(second.code).toBe(0);
    expect(receiver.requests).toHaveLength(1);
    expectNoSecretIn(request?.body ?? '', []);
    expectNoSecretIn(first.stdout + first.stderr + second.stdout + second.stderr);
  });

  it('rows in ERROR reach Slack as a text message, once; a 500 then a 429 with Retry-After are retried after the wait asked', async () => {
    receiver = await startWebhookReceiver();
    receiver.answers = [{ status: 500 }, { status: 429, retryAfter: '1' }];
    bed = await startBed({ rows: sampleRows(6), config: { llm: { max_retries: 1 }, notify: [{ url: receiver.slackUrl, format: 'slack', on: ['errors'] }] } });
    bed.llm.injectFault({ kind: 'garbage' }, { times: Infinity, match: (_row, req) => mentions(req, 'PRJ-0002') });
    const result = await bed.run('--json');
    expect(result.code, result.stderr).toBe(3);
    expect(receiver.requests.map((r) => r.status)).toEqual([500, 429, 200]);
    const [, throttled, delivered] = receiver.requests;
    expect((delivered?.at ?? 0) - (throttled?.at ?? 0)).toBeGreaterThanOrEqual(950);
    // The same message each time, and Slack took it ("ok"): text with the ERROR row's target line.
    expect(new Set(receiver.requests.map((r) => r.body)).size).toBe(1);
    const text = String((JSON.parse(delivered?.body ?? '{}') as { text?: unknown }).text);
    expect(text).toMatch(/finished with ERROR rows \(exit 3\)/);
    expect(text).toContain('1 ERROR');
    const summary = JSON.parse(result.stdout) as { warnings: string[] };
    expect(summary.warnings.filter((w) => w.includes('notify'))).toEqual([]);
  });

  it('a failed run reaches a json receiver signed: the HMAC of the raw body verifies, the body carries its time, the error and its fix', async () => {
    receiver = await startWebhookReceiver();
    bed = await startBed({ rows: sampleRows(2), config: { notify: [{ url: receiver.jsonUrl, format: 'json', on: ['failed'], secret_env: 'HOOK_SECRET' }] } });
    bed.env.HOOK_SECRET = SECRET;
    bed.setConfig({ sheets: { sheet: 'No such tab' } });
    const before = Date.now();
    const result = await bed.run();
    expect(result.code).toBe(1);
    expect(receiver.requests).toHaveLength(1);
    const [request] = receiver.requests;
    const signature = request?.headers['x-status-validator-signature'];
    expect(typeof signature).toBe('string');
    expect(verifySignature(request?.body ?? '', String(signature), SECRET)).toBe(true);
    expect(verifySignature(request?.body ?? '', String(signature), `${SECRET}x`)).toBe(false);
    const payload = JSON.parse(request?.body ?? '{}') as { schema: string; sentAt: string; exitCode: number; events: string[]; targets: Array<{ status: string; exitCode: number; error: { message: string; fix: string | null }; spreadsheetId: string; sheet: string; runId: string }> };
    expect(payload.schema).toBe('status-validator.notification/1');
    expect(Date.parse(payload.sentAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(payload.exitCode).toBe(1);
    expect(payload.events).toContain('failed');
    const [target] = payload.targets;
    expect(target).toMatchObject({ status: 'failed', exitCode: 1, spreadsheetId: SPREADSHEET_ID, sheet: 'No such tab' });
    expect(target?.error.message).toContain('No such tab');
    expect(target?.error.fix).toBeTruthy();
    expect(runRows(cacheOf(bed)).map((r) => r.id)).toContain(target?.runId);
    // No secret in the body or any header (the signature is an HMAC, not the secret).
    expectNoSecretIn(`${request?.body ?? ''}${JSON.stringify(request?.headers ?? {})}`);
  });

  it('a receiver that never answers costs the run at most 15 s after its writes, changes not its exit code, and is a warning in its summary and record, its URL credentials nowhere', async () => {
    receiver = await startWebhookReceiver();
    receiver.answers = Array.from({ length: 10 }, () => 'hang' as const);
    bed = await startBed({ rows: sampleRows(4), config: { notify: [{ url: receiver.chatUrl, format: 'google_chat', on: ['finished'] }] } });
    // The moment of the run's last write to the sheet, as the emulator saw it.
    let lastWrite = 0;
    bed.sheets.onResponse((call) => {
      if (call.kind === 'write') lastWrite = Date.now();
    });
    const started = Date.now();
    const result = await bed.run('--json');
    const ended = Date.now();
    expect(result.code, result.stderr).toBe(0);
    // Every row was written before the first attempt to notify (invariant 12).
    const verdict = col(bed.values(), 'Validation');
    expect(bed.values().slice(1).every((r) => r[verdict] !== '')).toBe(true);
    const firstAttempt = receiver.requests[0]?.at ?? 0;
    expect(firstAttempt).toBeGreaterThan(started);
    expect(lastWrite).toBeGreaterThan(0);
    expect(firstAttempt).toBeGreaterThanOrEqual(lastWrite);
    expect(ended - firstAttempt).toBeLessThan(16_500);
    // The 15 s budget starts before the first attempt (the tab's gid is looked up first, up to
    // 3 s), so the wait seen from the first attempt is shorter by that lookup: on a loaded
    // machine a second or more. Still far beyond any single attempt's timeout.
    expect(ended - firstAttempt).toBeGreaterThanOrEqual(12_000);
    expect(receiver.requests.length).toBeGreaterThanOrEqual(2);
    expect(receiver.requests.length).toBeLessThanOrEqual(5);
    const summary = JSON.parse(result.stdout) as { warnings: string[]; runId: string };
    const warning = summary.warnings.find((w) => w.includes('could not notify'));
    expect(warning).toContain('google_chat webhook at 127.0.0.1');
    expect(warning).toContain('no answer within');
    const [record] = runRows(cacheOf(bed)).filter((r) => r.id === summary.runId);
    expect(String(record?.summary)).toContain('could not notify the google_chat webhook');
    expectNoSecretIn(result.stdout + result.stderr + String(record?.summary));
  }, 30_000);

  it('a portfolio run sends one message per destination, a line per target', async () => {
    receiver = await startWebhookReceiver();
    bed = await startBed({
      rows: sampleRows(3),
      moreTabs: [{ title: 'Risks', rows: [['Project', 'Status', 'Comment', 'Due date'], ...sampleRows(3).map((r) => [`R-${r[0] ?? ''}`, ...r.slice(1)])] }],
      config: {
        targets: [
          { name: 'main', sheet: TAB },
          { name: 'risks', sheet: 'Risks' },
        ],
        notify: [
          { url: receiver.chatUrl, format: 'google_chat', on: ['finished'] },
          { url: receiver.slackUrl, format: 'slack', on: ['finished'] },
        ],
      },
    });
    const result = await bed.run();
    expect(result.code, result.stderr).toBe(0);
    expect(receiver.requests.map((r) => r.path).sort()).toEqual([`/services/T00000000/B00000000/${SLACK_SECRET}`, '/v1/spaces/AAAAkM-test/messages'].sort());
    expect(receiver.requests.every((r) => r.status === 200)).toBe(true);
    for (const r of receiver.requests) {
      const text = String((JSON.parse(r.body) as { text?: unknown }).text);
      expect(text.match(/^• \*main\*/gm)).toHaveLength(1);
      expect(text.match(/^• \*risks\*/gm)).toHaveLength(1);
    }
  });

  it('a json destination without its secret in the environment is a config problem before anything is done (exit 2)', async () => {
    receiver = await startWebhookReceiver();
    bed = await startBed({ rows: sampleRows(2), config: { notify: [{ url: receiver.jsonUrl, format: 'json', on: ['failed'], secret_env: 'HOOK_SECRET_MISSING' }] } });
    const result = await bed.run();
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('notify[0].secret_env');
    expect(result.stderr).toContain('HOOK_SECRET_MISSING');
    expect(bed.llm.callCount()).toBe(0);
  });

  it('a bad webhook URL is refused without echoing it (it is a credential)', async () => {
    bed = await startBed({ rows: sampleRows(1), config: { notify: [{ url: `ftp://chat.example/${CHAT_KEY}`, format: 'google_chat' }] } });
    const result = await bed.cli(['check-config', '--config', bed.configPath]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('notify[0].url');
    expect(result.stderr).not.toContain(CHAT_KEY);
  });

  it('a failing scheduled run reaches the receiver once per run, in the background; a dead receiver beside it is a warning in the log and the schedule goes on', async () => {
    receiver = await startWebhookReceiver();
    const dead = `http://127.0.0.1:${await closedPort()}/services/T0/B0/deadsecret123456`;
    bed = await startBed({ rows: sampleRows(2), config: { notify: [{ url: receiver.chatUrl, format: 'google_chat', on: ['failed'] }, { url: dead, format: 'slack', on: ['failed'] }] } });
    bed.setConfig({ sheets: { sheet: 'Gone' } });
    let log = '';
    const clock = virtualClock('2026-11-20T06:59:00Z');
    const result = await bed.cli(['schedule', '--config', bed.configPath, '--cron', '0 7 * * *', '--tz', 'UTC', '--runs', '2'], { clock, stderr: { write: (s: string) => (log += s) } });
    expect(result.code, log).toBe(0);
    expect(log.match(/next run at/g)?.length).toBe(2);
    expect(receiver.requests).toHaveLength(2);
    for (const r of receiver.requests) expect(String((JSON.parse(r.body) as { text: string }).text)).toMatch(/^status-validator schedule run FAILED \(exit 1\)/);
    expect(log.match(/warning: could not notify the slack webhook at 127\.0\.0\.1:\d+: .*could not connect/g)).toHaveLength(2);
    expect(log).not.toContain('deadsecret123456');
    expect(log).not.toContain(CHAT_KEY);
  }, 30_000);

  it('a run that finds its sheet locked by another run tells on: failed (exit 4), and says who holds it', async () => {
    receiver = await startWebhookReceiver();
    bed = await startBed({ rows: sampleRows(2), config: { notify: [{ url: receiver.chatUrl, format: 'google_chat', on: ['failed'] }] } });
    await SqliteStore.open(cacheOf(bed)).close();
    const pid = await liveStranger(cleanups);
    const now = new Date().toISOString();
    insertLock(cacheOf(bed), { name: `${SPREADSHEET_ID}/${TAB.toLowerCase()}`, run_id: 'run-in-progress', pid, host: hostname(), started_at: now, heartbeat_at: now });
    const result = await bed.run();
    expect(result.code).toBe(4);
    expect(receiver.requests).toHaveLength(1);
    const text = String((JSON.parse(receiver.requests[0]?.body ?? '{}') as { text: string }).text);
    expect(text).toMatch(/FAILED \(exit 4\)/);
    expect(text).toContain('skipped, another run holds its lock');
  });

  it('serve tells of the runs it starts, after their writes', async () => {
    receiver = await startWebhookReceiver();
    bed = await startBed({ rows: sampleRows(2), config: { notify: [{ url: receiver.slackUrl, format: 'slack', on: ['finished'] }] } });
    const served = await startServe(bed);
    try {
      expect((await served.call('POST', '/runs', SERVE_TOKEN, {})).status).toBe(202);
      await served.idle();
      for (let i = 0; i < 100 && receiver.requests.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(receiver.requests).toHaveLength(1);
      expect(receiver.requests[0]?.status).toBe(200);
      expect(String((JSON.parse(receiver.requests[0]?.body ?? '{}') as { text: string }).text)).toMatch(/^status-validator serve run finished \(exit 0\)/);
    } finally {
      expect((await served.close()).code).toBe(0);
    }
  });
});
