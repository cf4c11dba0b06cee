/**
 * Review of issue 22 with `serve` and a cron POST for all targets: README, Notifications:
 * "`failed` (exit 1, 2 or 4: the run stopped, or another run held the lock)". When one
 * target of the portfolio is held by another run, serve skips it (its 202 says "skipped")
 * and runs the others; the run it tells of lists only the targets it ran, so a destination
 * listening for `failed` never hears that a target was skipped — the very case `run` and
 * `schedule` report as exit 4 (test/e2e/notify.test.ts: "tells on: failed (exit 4)").
 */
import { afterEach, expect, it } from 'vitest';
import { hostname } from 'node:os';
import { HEADER, SPREADSHEET_ID, TAB, startBed, type Bed } from '../support/bed.js';
import { SqliteStore } from '../../src/cache/index.js';
import { insertLock, liveStranger } from '../support/inspect.js';
import { sampleRows } from '../support/sample-data.js';
import { SERVE_TOKEN, startServe } from '../support/serve.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

let bed: Bed | undefined;
let receiver: WebhookReceiver | undefined;
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await Promise.all([bed?.close(), receiver?.close()]);
  bed = undefined;
  receiver = undefined;
});

it('a cron POST for all targets that skips a locked target tells `on: failed` of it', async () => {
  receiver = await startWebhookReceiver();
  bed = await startBed({
    rows: sampleRows(2),
    moreTabs: [{ title: 'Risks', rows: [HEADER, ...sampleRows(2).map((r) => [`R-${r[0] ?? ''}`, ...r.slice(1)])] }],
    config: {
      targets: [
        { name: 'main', sheet: TAB },
        { name: 'risks', sheet: 'Risks' },
      ],
      notify: [{ url: receiver.chatUrl, format: 'google_chat', on: ['failed'] }],
    },
  });
  const cache = String((bed.config.cache as { path: string }).path);
  await SqliteStore.open(cache).close();
  const pid = await liveStranger(cleanups);
  const now = new Date().toISOString();
  insertLock(cache, { name: `${SPREADSHEET_ID}/risks`, run_id: 'run-in-progress', pid, host: hostname(), started_at: now, heartbeat_at: now });
  const served = await startServe(bed);
  try {
    const answer = await served.call('POST', '/runs', SERVE_TOKEN, {});
    expect(answer.status).toBe(202);
    await served.idle();
    // The free target ran and wrote its verdicts; the held one was skipped.
    expect(bed.values()[0]).toContain('Validation');
    expect(bed.sheets.values(SPREADSHEET_ID, 'Risks')[0]).not.toContain('Validation');
    for (let i = 0; i < 60 && receiver.requests.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(receiver.requests).toHaveLength(1);
    const text = String((JSON.parse(receiver.requests[0]?.body ?? '{}') as { text: string }).text);
    expect(text).toMatch(/risks/);
    expect(text).toMatch(/exit 4|lock/);
  } finally {
    expect((await served.close()).code).toBe(0);
  }
}, 30_000);
