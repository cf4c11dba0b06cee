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
import { afterEach, describe, expect, it } from 'vitest';
import { HEADER, SPREADSHEET_ID, TAB, startBed, type Bed } from '../support/bed.js';
import { CLIENT_ID, idClaims, startGoogleCerts, type GoogleCerts } from '../support/google-certs.js';
import { waitFor } from '../support/inspect.js';
import { targetRows } from '../support/sample-data.js';

const TOKEN = 'machine-token-0123456789abcdef';
const OTHER_BOOK = 'sheet-e2e-book-2';
let bed: Bed | undefined;
let certs: GoogleCerts | undefined;
let stopServer: (() => Promise<unknown>) | undefined;
afterEach(async () => {
  await stopServer?.();
  await bed?.close();
  await certs?.close();
  [bed, certs, stopServer] = [undefined, undefined, undefined];
});

describe("a person's view of a cron run in which another spreadsheet's tab failed", () => {
  it("shows their own tab's outcome: finished", async () => {
    certs = await startGoogleCerts();
    const b = (bed = await startBed({
      rows: targetRows('A', 3, 0),
      config: { sheets: { read_quota_per_minute: 100_000, write_quota_per_minute: 100_000 }, serve: { allow: ['alice@example.com'], google_client_id: CLIENT_ID, google_certs_url: certs.url } },
    }));
    b.sheets.addSpreadsheet(OTHER_BOOK, [{ title: 'Statuses', rows: [HEADER, ...targetRows('C', 3, 40)] }]);
    b.setConfig({ targets: [{ name: 'programme-a', sheet: TAB }, { name: 'book-2', spreadsheet_id: OTHER_BOOK, sheet: 'Statuses' }] });
    b.sheets.setForbidden(OTHER_BOOK, true); // unshared from the bot: that target fails
    const stop = new AbortController();
    let log = '';
    const done = b.cli(['serve', '--config', b.configPath, '--port', '0'], { stop: stop.signal, env: { ...b.env, STATUS_VALIDATOR_TOKEN: TOKEN }, stderr: { write: (s: string) => (log += s) } });
    stopServer = () => (stop.abort(), done);
    await waitFor('the server to listen', () => /listening on (\S+)/.test(log));
    const base = /listening on (\S+)/.exec(log)?.[1] ?? '';
    const call = async (route: string, bearer: string, body?: unknown) => {
      const res = await fetch(`${base}${route}`, { method: body === undefined ? 'GET' : 'POST', headers: { authorization: `Bearer ${bearer}` }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    };
    const cron = await call('/runs', TOKEN, {});
    expect(cron.status).toBe(202);
    const id = String(cron.json.id);
    for (let i = 0; i < 500 && (await call('/health', TOKEN)).json.running !== null; i++) await new Promise((r) => setTimeout(r, 20));
    const whole = await call(`/runs/${id}`, TOKEN);
    expect(whole.json.status, 'the other target did fail').toBe('failed');
    const hers = await call(`/runs/${id}?spreadsheet_id=${SPREADSHEET_ID}&sheet=${encodeURIComponent(TAB)}`, certs.sign(idClaims('alice@example.com')));
    console.log(`Alice's view: ${JSON.stringify({ ...hers.json, summaries: undefined, summary: hers.json.summary ? '(hers)' : null })}`);
    expect((hers.json.summaries as Array<{ target: string; status: string }>).map((s) => [s.target, s.status])).toEqual([['programme-a', 'completed']]);
    expect(hers.json.status).toBe('finished');
  }, 30_000);
});
