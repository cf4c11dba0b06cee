// Review 3 (of the issue 18 fixes), finding: a person's view of a cron run says "failed" when only
// ANOTHER spreadsheet's target failed, and so tells them that it did.
//
// src/server/views.ts, runView: for a person it filters targets, summaries and error to the tab
// their query names, but passes the whole run's `status` through. A cron run over every target in
// which another spreadsheet's tab failed (here: its spreadsheet no longer shared with the bot)
// shows Alice, whose own tab finished, `status: "failed"` with `error: null`; the Apps Script's
// "Last run" then says "failed". docs/apps-script.md: "a run's view shows a person only that tab's
// part of it (never another spreadsheet's id, tab or errors)"; issue 18 item 3: a person sees only
// what their request names. Their part finished: so should the status they are shown.
import { describe, expect, it } from 'vitest';
import { HEADER, SPREADSHEET_ID, TAB, startBed } from '../support/bed.js';
import { CLIENT_ID, idClaims, startGoogleCerts } from '../support/google-certs.js';
import { targetRows } from '../support/sample-data.js';
import { SERVE_TOKEN as TOKEN, closeAfterEach, startServe } from '../support/serve.js';

const OTHER_BOOK = 'sheet-e2e-book-2';
const later = closeAfterEach();

describe("a person's view of a cron run in which another spreadsheet's tab failed", () => {
  it("shows their own tab's outcome: finished", async () => {
    const certs = later(await startGoogleCerts());
    const b = later(await startBed({
      rows: targetRows('A', 3, 0),
      config: { sheets: { read_quota_per_minute: 100_000, write_quota_per_minute: 100_000 }, serve: { allow: ['alice@example.com'], google_client_id: CLIENT_ID, google_certs_url: certs.url } },
    }));
    b.sheets.addSpreadsheet(OTHER_BOOK, [{ title: 'Statuses', rows: [HEADER, ...targetRows('C', 3, 40)] }]);
    b.setConfig({ targets: [{ name: 'programme-a', sheet: TAB }, { name: 'book-2', spreadsheet_id: OTHER_BOOK, sheet: 'Statuses' }] });
    b.sheets.setForbidden(OTHER_BOOK, true); // unshared from the bot: that target fails
    const served = later(await startServe(b));
    const call = (route: string, bearer: string, body?: unknown) => served.call(body === undefined ? 'GET' : 'POST', route, bearer, body);
    const cron = await call('/runs', TOKEN, {});
    expect(cron.status).toBe(202);
    const id = String(cron.json.id);
    await served.idle();
    const whole = await call(`/runs/${id}`, TOKEN);
    expect(whole.json.status, 'the other target did fail').toBe('failed');
    const hers = await call(`/runs/${id}?spreadsheet_id=${SPREADSHEET_ID}&sheet=${encodeURIComponent(TAB)}`, certs.sign(idClaims('alice@example.com')));
    console.log(`Alice's view: ${JSON.stringify({ ...hers.json, summaries: undefined, summary: hers.json.summary ? '(hers)' : null })}`);
    expect((hers.json.summaries as Array<{ target: string; status: string }>).map((s) => [s.target, s.status])).toEqual([['programme-a', 'completed']]);
    expect(hers.json.status).toBe('finished');
  }, 30_000);
});
