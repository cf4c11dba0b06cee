/**
 * Review suspicion on issue 22: the notification's gid lookup (announce.ts gidOf) makes a
 * Sheets client of its own. Invariant 4 wants one pacer per service account: every client
 * sheetsClientFor makes for an account (the run's, the lookup's, another spreadsheet's)
 * takes its calls from the same read and write pacers, so the lookup counts against the
 * quota the run paces, not beside it.
 */
import { expect, it } from 'vitest';
import type { Config } from '../../src/config/index.js';
import { sheetsClientFor } from '../../src/pipeline/index.js';
import { testPrivateKey } from '../support/bed.js';

const account = { client_email: 'pacer-test@example-project.iam.gserviceaccount.com', private_key: testPrivateKey(), project_id: 'example-project' };
const sheetsOf = (id: string) => ({ sheets: { spreadsheet_id: id, sheet: 'Statuses', api_root: 'http://127.0.0.1:9', read_quota_per_minute: 60, write_quota_per_minute: 60 } }) as unknown as Pick<Config, 'sheets'>;

it("the gid lookup's client shares the run's pacers (one per service account), whatever the spreadsheet", () => {
  const run = sheetsClientFor(sheetsOf('sheet-a'), { serviceAccount: account });
  const lookup = sheetsClientFor(sheetsOf('sheet-a'), { serviceAccount: account });
  const other = sheetsClientFor(sheetsOf('sheet-b'), { serviceAccount: account });
  expect(lookup.reads).toBe(run.reads);
  expect(lookup.writes).toBe(run.writes);
  expect(other.reads).toBe(run.reads);
  const stranger = sheetsClientFor(sheetsOf('sheet-a'), { serviceAccount: { ...account, client_email: 'other@example-project.iam.gserviceaccount.com' } });
  expect(stranger.reads).not.toBe(run.reads);
});
