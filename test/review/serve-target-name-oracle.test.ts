// Review 3 (of the issue 18 fixes), finding: a person learns which target names the server has in
// OTHER spreadsheets, by the difference between two refusals.
//
// From her own tab, Alice adds "target": a name that no target has gets 404 "no target is named
// …"; the name of another spreadsheet's target gets 422 "the target "<its exact name>" is not the
// tab …" (src/server/targets.ts, resolveTargets: `named` is looked up over ALL targets, not the
// spreadsheet's). She may probe names at will: these refusals come before the plan, so they cost
// nothing of serve.runs_per_hour. The 422 even spells the name back as the config writes it.
// Issue 18 item 3: "A person sees ... only what their request names from their own sheet"; the
// server's own comment: target names "are the config's business". A person should get the same
// answer for another spreadsheet's target as for a name that does not exist.
import { describe, expect, it } from 'vitest';
import { HEADER, SPREADSHEET_ID, TAB, startBed } from '../support/bed.js';
import { CLIENT_ID, idClaims, startGoogleCerts } from '../support/google-certs.js';
import { targetRows } from '../support/sample-data.js';
import { closeAfterEach, startServe } from '../support/serve.js';

const OTHER_BOOK = 'sheet-e2e-secret-book-2';
const later = closeAfterEach();

describe('serve, a person naming a target from her own tab', () => {
  it("gets the same refusal for another spreadsheet's target as for a name no target has", async () => {
    const certs = later(await startGoogleCerts());
    const b = later(await startBed({
      rows: targetRows('A', 3, 0),
      moreTabs: [{ title: 'Team B', rows: [HEADER, ...targetRows('B', 3, 20)] }],
      config: { serve: { allow: ['alice@example.com'], google_client_id: CLIENT_ID, google_certs_url: certs.url } },
    }));
    b.sheets.addSpreadsheet(OTHER_BOOK, [{ title: 'Board pay review', rows: [HEADER, ...targetRows('RU', 3, 40)] }]);
    b.setConfig({ targets: [{ name: 'programme-a', sheet: TAB }, { name: 'team-b', sheet: 'Team B' }, { name: 'Board-Pay', spreadsheet_id: OTHER_BOOK, sheet: 'Board pay review' }] });
    const { base } = later(await startServe(b));
    const alice = certs.sign(idClaims('alice@example.com'));
    const ask = async (target: string) => {
      const res = await fetch(`${base}/runs`, { method: 'POST', headers: { authorization: `Bearer ${alice}` }, body: JSON.stringify({ spreadsheet_id: SPREADSHEET_ID, sheet: TAB, target }) });
      return { status: res.status, text: JSON.stringify(await res.json()) };
    };
    const elsewhere = await ask('board-pay');
    const nowhere = await ask('board-pax');
    console.log(`another spreadsheet's target: ${elsewhere.status} ${elsewhere.text}\na name no target has: ${nowhere.status} ${nowhere.text}`);
    expect(elsewhere.text, "the config's spelling of another spreadsheet's target").not.toContain('Board-Pay');
    expect(elsewhere.status, "a target of another spreadsheet answered apart from a name that does not exist").toBe(nowhere.status);
    expect(elsewhere.text.replace('board-pay', 'NAME')).toBe(nowhere.text.replace('board-pax', 'NAME'));
  }, 30_000);
});
