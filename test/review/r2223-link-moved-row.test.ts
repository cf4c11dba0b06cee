/**
 * Review of issue 22: the newly-INVALID digest links each row "to it"
 * (`…#gid=<gid>&range=A<row>`). Invariant 1 writes a verdict where its row is NOW when
 * rows moved during the run; the digest must link there too, or the reviewer who clicks
 * lands on another project's row. Today the digest keeps the row number read at the start.
 */
import { afterEach, expect, it } from 'vitest';
import { col, HEADER, OUTPUT_HEADERS, SPREADSHEET_ID, startBed, TAB, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

let bed: Bed | undefined;
let receiver: WebhookReceiver | undefined;
afterEach(async () => {
  await Promise.all([bed?.close(), receiver?.close()]);
  bed = undefined;
  receiver = undefined;
});

const FAST_SHEETS = { read_quota_per_minute: 6000, write_quota_per_minute: 6000 };
const SECRET = 'whsec-0123456789abcdef0123456789abcdef';

it('links each newly INVALID row where it is after rows were inserted above it during the run', async () => {
  receiver = await startWebhookReceiver();
  bed = await startBed({
    rows: sampleRows(20),
    header: [...HEADER, ...OUTPUT_HEADERS],
    llm: { latencyMs: 5 },
    config: { llm: { max_workers: 2 }, output: { write_batch_size: 5 }, sheets: FAST_SHEETS, notify: [{ url: receiver.jsonUrl, format: 'json', on: ['invalid'], secret_env: 'HOOK_SECRET' }] },
  });
  bed.env.HOOK_SECRET = SECRET;
  const b = bed;
  let reads = 0;
  b.sheets.onRequest((call) => {
    // Before the first verify read: every row moves down by two before any verdict is written.
    if (call.kind === 'read' && ++reads === 2) b.sheets.insertRows(SPREADSHEET_ID, TAB, 2, [['NEW-1', 'Planned', 'Inserted by a person.', ''], ['NEW-2', 'Planned', 'Inserted by a person.', '']]);
  });
  const result = await b.run();
  expect(result.code, result.stderr).toBe(0);
  const values = b.values();
  const verdict = col(values, 'Validation');
  const invalidNow = new Map(values.flatMap((r, i) => (r[verdict] === 'INVALID' ? [[r[0] ?? '', i + 1] as const] : [])));
  expect(invalidNow.size).toBeGreaterThan(0);
  expect(receiver.requests).toHaveLength(1);
  const payload = JSON.parse(receiver.requests[0]?.body ?? '{}') as { targets: Array<{ newlyInvalid: { rows: Array<{ row: number; id: string; link: string }> } }> };
  const rows = payload.targets[0]?.newlyInvalid.rows ?? [];
  expect(rows.length).toBe(invalidNow.size);
  for (const r of rows) {
    // The row the link opens must show the project it names.
    expect({ id: r.id, row: r.row }).toEqual({ id: r.id, row: invalidNow.get(r.id) });
    expect(r.link.endsWith(`&range=A${invalidNow.get(r.id)}`)).toBe(true);
  }
});
