/**
 * Review of issue 22: `notify:` tells of "every run" (`finished`) and of rows newly INVALID.
 * `run --mode batch` is a run (the README's nightly-at-half-price recipe), and `batch
 * results` writes verdicts to the sheet; neither tells anyone: src/commands/batch.ts never
 * calls announce(). A nightly batch run that turns rows INVALID, or fails, is silent.
 */
import { afterEach, expect, it } from 'vitest';
import { col, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';
import { finishingClock } from '../support/virtual-clock.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

let bed: Bed | undefined;
let receiver: WebhookReceiver | undefined;
afterEach(async () => {
  await Promise.all([bed?.close(), receiver?.close()]);
  bed = undefined;
  receiver = undefined;
});

it('run --mode batch that writes newly INVALID rows notifies a destination listening for invalid and finished, once', async () => {
  receiver = await startWebhookReceiver();
  bed = await startBed({ rows: sampleRows(8), config: { notify: [{ url: receiver.chatUrl, format: 'google_chat', on: ['invalid', 'finished'] }] } });
  const result = await bed.cli(['run', '--config', bed.configPath, '--mode', 'batch', '--every', '1s'], { clock: finishingClock(bed) });
  expect(result.code, result.stderr).toBe(0);
  const values = bed.values();
  const invalid = values.slice(1).filter((r) => r[col(values, 'Validation')] === 'INVALID').length;
  expect(invalid).toBeGreaterThan(0);
  expect(receiver.requests).toHaveLength(1);
  const text = String((JSON.parse(receiver.requests[0]?.body ?? '{}') as { text?: unknown }).text);
  expect(text).toContain(`${invalid} ${invalid === 1 ? 'row' : 'rows'} newly INVALID`);
});
