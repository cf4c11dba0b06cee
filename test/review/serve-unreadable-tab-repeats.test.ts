// Review 3 (of the issue 18 fixes), finding: a request refused 502 for its tab's headers costs the
// person nothing, so it repeats at will, each time reading the whole tab.
//
// The fix of issue 18 items 2 and 4 counts a refusal "over the caps or the row ids (the sheet was
// read and the run planned for it, so it cannot be repeated at will)", but not "the sheet
// unreadable" (src/server/index.ts, startRun). A tab whose header an editor renamed ("Status" ->
// "State") is read in full, then refused 502 "could not read the sheet ... no column Status": the
// read happened and was paid, yet the person's slot is given back. Any editor can rename a header
// of their tab and press "Validate now" in a loop: every press reads the whole tab from the one
// Sheets read quota of the service account (60 a minute per user, shared by every target and
// run of the process: invariant 4's pacer then holds everyone else's reads back). Issue 18 item 2:
// a refusal must not be repeatable at will. Fixed when such a refusal counts, or the same tab is
// not read again for it at once: either way, six presses with runs_per_hour 1 read the tab at
// most twice.
import { describe, expect, it } from 'vitest';
import { SPREADSHEET_ID, TAB, startBed } from '../support/bed.js';
import { CLIENT_ID, idClaims, startGoogleCerts } from '../support/google-certs.js';
import { sampleRows } from '../support/sample-data.js';
import { closeAfterEach, startServe } from '../support/serve.js';

const later = closeAfterEach();

describe("serve, a person's tab whose header was renamed", () => {
  it('is not read again and again for one person beyond serve.runs_per_hour', async () => {
    const certs = later(await startGoogleCerts());
    const b = later(await startBed({
      header: ['Project', 'State', 'Comment', 'Due date'], // "Status" renamed by an editor
      rows: sampleRows(50),
      config: { sheets: { read_quota_per_minute: 100_000 }, serve: { allow: ['alice@example.com'], google_client_id: CLIENT_ID, google_certs_url: certs.url, runs_per_hour: 1 } },
    }));
    const { base } = later(await startServe(b));
    const alice = certs.sign(idClaims('alice@example.com'));
    b.sheets.resetCalls();
    const statuses: number[] = [];
    for (let press = 0; press < 6; press++) {
      const res = await fetch(`${base}/runs`, { method: 'POST', headers: { authorization: `Bearer ${alice}` }, body: JSON.stringify({ spreadsheet_id: SPREADSHEET_ID, sheet: TAB }) });
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    console.log(`six presses: ${statuses.join(', ')}; the tab read ${b.sheets.readCount()} times`);
    expect(statuses[0]).toBe(502);
    expect(b.sheets.readCount(), 'the whole tab read for each uncounted refusal').toBeLessThanOrEqual(2);
  }, 30_000);
});
