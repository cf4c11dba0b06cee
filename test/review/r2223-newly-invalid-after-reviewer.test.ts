/**
 * Review of issue 22: `on: invalid` hears of "rows this run turned INVALID that the sheet
 * did not show INVALID before" (README, Notifications). A row a reviewer confirmed shows
 * "INVALID (reviewer)"; when the reviewer clears the override, the model's cached INVALID
 * comes back. The sheet showed INVALID before and shows INVALID after, yet the run calls
 * the row "newly INVALID" and the reviewers' channel is told of a row they judged themselves.
 */
import { afterEach, expect, it } from 'vitest';
import { SPREADSHEET_ID, TAB, col, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

let bed: Bed | undefined;
let receiver: WebhookReceiver | undefined;
afterEach(async () => {
  await Promise.all([bed?.close(), receiver?.close()]);
  bed = undefined;
  receiver = undefined;
});

it('a row returning from "INVALID (reviewer)" to the model’s INVALID is not newly INVALID', async () => {
  receiver = await startWebhookReceiver();
  bed = await startBed({ rows: sampleRows(8), config: { review: { recheck_column: 'Recheck', override_column: 'Reviewer verdict' } } });
  expect((await bed.run()).code).toBe(0);
  let values = bed.values();
  const verdict = col(values, 'Validation');
  const row = values.findIndex((r, i) => i > 0 && r[verdict] === 'INVALID') + 1;
  expect(row).toBeGreaterThan(1);
  const override = col(values, 'Reviewer verdict') + 1;

  // The reviewer confirms the model's INVALID.
  bed.sheets.setCell(SPREADSHEET_ID, TAB, row, override, 'INVALID: confirmed, owner missing');
  expect((await bed.run()).code).toBe(0);
  values = bed.values();
  expect(values[row - 1]?.[verdict]).toBe('INVALID (reviewer)');

  // From now on someone listens for newly INVALID rows; the reviewer clears the override.
  bed.setConfig({ notify: [{ url: receiver.chatUrl, format: 'google_chat', on: ['invalid'] }] });
  bed.sheets.setCell(SPREADSHEET_ID, TAB, row, override, null);
  const result = await bed.run('--json');
  expect(result.code, result.stderr).toBe(0);
  expect(bed.values()[row - 1]?.[verdict]).toBe('INVALID');
  const summary = JSON.parse(result.stdout) as { newlyInvalid?: { count: number } };
  expect(summary.newlyInvalid?.count ?? 0).toBe(0);
  expect(receiver.requests).toHaveLength(0);
});
