/**
 * Issue 22, invariant 12 with Ctrl-C: the notifications' 15 s budget is the most a
 * receiver may delay a run's end, but a second Ctrl-C (the abort signal: "cancel what is in
 * flight") must end a hanging delivery at once, as it does a model call. The run itself
 * is done (its writes went through); the delivery becomes a warning, the exit code stays.
 */
import { afterEach, expect, it } from 'vitest';
import { col, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

let bed: Bed | undefined;
let receiver: WebhookReceiver | undefined;
afterEach(async () => {
  await Promise.all([bed?.close(), receiver?.close()]);
  bed = undefined;
  receiver = undefined;
});

it('a second Ctrl-C cuts a hanging delivery short: the run ends at once, its exit code unchanged, the delivery a warning', async () => {
  receiver = await startWebhookReceiver();
  receiver.answers = Array.from({ length: 10 }, () => 'hang' as const);
  bed = await startBed({ rows: sampleRows(3), config: { notify: [{ url: receiver.slackUrl, format: 'slack', on: ['finished'] }] } });
  const abort = new AbortController();
  const r = receiver;
  let abortedAt = 0;
  // The moment the receiver holds the first attempt, the user presses Ctrl-C twice.
  const watcher = setInterval(() => {
    if (r.requests.length > 0 && abortedAt === 0) {
      abortedAt = Date.now();
      abort.abort(new Error('SIGINT'));
    }
  }, 20);
  try {
    const result = await bed.cli(['run', '--config', bed.configPath, '--json'], { abort: abort.signal });
    const ended = Date.now();
    expect(abortedAt).toBeGreaterThan(0);
    expect(result.code, result.stderr).toBe(0);
    const verdict = col(bed.values(), 'Validation');
    expect(bed.values().slice(1).every((row) => row[verdict] !== '')).toBe(true);
    // Cut short: not the 15 s budget, nor a single attempt's timeout.
    expect(ended - abortedAt).toBeLessThan(2_000);
    expect(receiver.requests).toHaveLength(1);
    const summary = JSON.parse(result.stdout) as { warnings: string[] };
    expect(summary.warnings.some((w) => w.startsWith('could not notify the slack webhook at 127.0.0.1'))).toBe(true);
  } finally {
    clearInterval(watcher);
  }
}, 30_000);
