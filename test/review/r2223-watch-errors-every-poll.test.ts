/**
 * Review of issue 22 with `watch`: a row the model can never answer stays ERROR and is
 * retried by every run (invariant 5), so a watch re-runs it every poll, and every poll
 * ends with exit 3 and sends `on: errors` a message about the same row: a chat space gets
 * a message a minute, all night, for one row. The watch's read failures are told once
 * ("A target newly failing ... is told once", src/commands/watch.ts); the same ERROR row,
 * unchanged, must not be told again each poll.
 */
import { afterEach, expect, it } from 'vitest';
import { startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';
import { virtualClock } from '../support/virtual-clock.js';
import { messageText, type ChatRequest } from '../support/openai-emulator/index.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

let bed: Bed | undefined;
let receiver: WebhookReceiver | undefined;
afterEach(async () => {
  await Promise.all([bed?.close(), receiver?.close()]);
  bed = undefined;
  receiver = undefined;
});

const mentions = (req: Pick<ChatRequest, 'messages'>, ref: string) => req.messages.some((m) => messageText(m).includes(`(ref ${ref})`));

it('a watch tells `on: errors` of an unchanged ERROR row once, not at every poll', async () => {
  receiver = await startWebhookReceiver();
  bed = await startBed({ rows: sampleRows(4), config: { llm: { max_retries: 1 }, notify: [{ url: receiver.slackUrl, format: 'slack', on: ['errors'] }] } });
  bed.llm.injectFault({ kind: 'garbage' }, { times: Infinity, match: (_row, req) => mentions(req, 'PRJ-0002') });
  let log = '';
  const clock = virtualClock('2026-11-21T09:00:00Z', async () => {
    // Let background deliveries land between polls.
    await new Promise((resolve) => setTimeout(resolve, 100));
  });
  const result = await bed.cli(['watch', '--config', bed.configPath, '--every', '60s', '--polls', '4'], { clock, stderr: { write: (s: string) => (log += s) } });
  expect([0, 3]).toContain(result.code);
  const runs = (log.match(/ERROR/g) ?? []).length;
  expect(runs, log).toBeGreaterThan(0);
  expect(receiver.requests.length, log).toBe(1);
});
