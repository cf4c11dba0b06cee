/**
 * Review of issue 22 ("Webhook URLs carry credentials themselves: redact them in every
 * message, log and error") and invariant 7. A webhook URL whose credential holds a `+`
 * (base64 tokens do: `?token=Ab+Cd...`): urlSecrets() adds the whole URL, the query value
 * as URLSearchParams decodes it ("+" read as a space) and that value re-encoded ("%20"),
 * but never the token as written. A receiver that refuses it and echoes what it got
 * ("invalid token Ab+Cd...", as many frameworks do) puts the credential, verbatim, into
 * the run's warning: on stdout (--json), in the log and in the runs table.
 */
import { afterEach, expect, it } from 'vitest';
import { startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

let bed: Bed | undefined;
let receiver: WebhookReceiver | undefined;
afterEach(async () => {
  await Promise.all([bed?.close(), receiver?.close()]);
  bed = undefined;
  receiver = undefined;
});

const TOKEN = 'Zk9+q2Lr+Vb7Xw3+Tn6Pd0Hs';

it('a refused delivery never puts a webhook credential written with "+" in the warning', async () => {
  receiver = await startWebhookReceiver();
  receiver.answers = [{ status: 401, body: `invalid token ${TOKEN}` }];
  bed = await startBed({ rows: sampleRows(2), config: { notify: [{ url: `${receiver.url}/hooks/status?token=${TOKEN}`, format: 'slack', on: ['finished'] }] } });
  const result = await bed.run('--json');
  expect(result.code, result.stderr).toBe(0);
  expect(receiver.requests).toHaveLength(1);
  const summary = JSON.parse(result.stdout) as { warnings: string[] };
  expect(summary.warnings.some((w) => w.includes('401'))).toBe(true);
  expect(result.stdout.includes(TOKEN), 'the token is in the summary').toBe(false);
  expect(result.stderr.includes(TOKEN), 'the token is in the log').toBe(false);
  const runs = await bed.cli(['runs', '--config', bed.configPath, '--json']);
  expect(runs.stdout.includes(TOKEN), 'the token is in runs --json').toBe(false);
});
