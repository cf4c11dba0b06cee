// Review 3 (of the issue 18 fixes), finding: on a server of one target, any allowed person learns
// its tab name and its run's id, whatever spreadsheet their request names.
//
// With one target, startRun claims the target before reading the body (src/server/index.ts,
// "early" claim), so while a run is in progress every person's request is answered 409 before the
// body's spreadsheet_id and sheet are checked. The 409 names the target, and a config without
// `targets:` names its one target after its tab (src/config/targets.ts, singleName). Alice, in a
// spreadsheet this server does not check, is told the other spreadsheet's tab name ("Board pay
// review") and the id of its run, instead of the 404 "no target of this server is in the
// spreadsheet ..." she gets when no run is in progress. Issue 18 item 3: a person sees only what
// their request names from their own sheet; docs/apps-script.md: never another spreadsheet's tab.
import { describe, expect, it } from 'vitest';
import { HEADER, SPREADSHEET_ID, TAB, startBed } from '../support/bed.js';
import { CLIENT_ID, idClaims, startGoogleCerts } from '../support/google-certs.js';
import { targetRows } from '../support/sample-data.js';
import { SERVE_TOKEN as TOKEN, closeAfterEach, startServe } from '../support/serve.js';

const BOARD_BOOK = 'sheet-e2e-board-book';
const BOARD_TAB = 'Board pay review';
const later = closeAfterEach();

describe('serve of one target (no targets:), a person naming a spreadsheet it does not check', () => {
  it('is answered 404 without its tab name, whether or not a run is in progress', async () => {
    const certs = later(await startGoogleCerts());
    const b = later(await startBed({
      rows: targetRows('A', 2, 0),
      llm: { latencyMs: 1500 },
      config: { serve: { allow: ['alice@example.com'], google_client_id: CLIENT_ID, google_certs_url: certs.url } },
    }));
    b.sheets.addSpreadsheet(BOARD_BOOK, [{ title: BOARD_TAB, rows: [HEADER, ...targetRows('P', 2, 40)] }]);
    b.setConfig({ sheets: { spreadsheet_id: BOARD_BOOK, sheet: BOARD_TAB } });
    const { base } = later(await startServe(b));
    const alice = certs.sign(idClaims('alice@example.com'));
    // Alice's own spreadsheet and tab: not this server's.
    const hers = async () => {
      const res = await fetch(`${base}/runs`, { method: 'POST', headers: { authorization: `Bearer ${alice}` }, body: JSON.stringify({ spreadsheet_id: SPREADSHEET_ID, sheet: TAB }) });
      return { status: res.status, text: await res.text() };
    };
    const idle = await hers();
    expect(idle.status).toBe(404);
    const cron = await fetch(`${base}/runs`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: '{}' });
    const cronRun = (await cron.json()) as { id: string };
    expect(cron.status).toBe(202);
    const during = await hers();
    console.log(`no run: ${idle.status} ${idle.text}during the cron's run: ${during.status} ${during.text}`);
    expect(during.text).not.toContain(BOARD_TAB);
    expect(during.text).not.toContain(cronRun.id);
    expect(during.status).toBe(404);
  }, 30_000);
});
