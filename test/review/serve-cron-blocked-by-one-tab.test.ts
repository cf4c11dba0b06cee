// Review 3 (of the issue 18 fixes), finding: one person's run of one tab makes the operator's cron
// run of every target (POST /runs with no target) a 409: no other tab, of any spreadsheet, is
// validated on that tick.
//
// RunSlot.claim takes every target of a run or none (src/server/admission.ts); a cron caller
// naming no target asks for all of them, so any one busy target refuses the whole portfolio.
// docs/apps-script.md says a cron caller sending nothing runs "every target at once as one
// portfolio (as `run` does)"; `run` over a portfolio runs the other targets when one tab's lock is
// held (that target ends with exit 4, the rest run: DESIGN Contracts, "a portfolio exits with its
// worst target's code"), and the server's own comment on planning says "one target failing stops
// no other". Here any allowed person, pressing "Validate now" on a big tab at the cron's minute
// (runs_per_hour of them an hour, each lasting as long as its run), keeps every other spreadsheet
// from its scheduled validation: the refusal-based lockout issue 18 asks to rule out.
import { describe, expect, it } from 'vitest';
import { HEADER, SPREADSHEET_ID, TAB, startBed } from '../support/bed.js';
import { CLIENT_ID, idClaims, startGoogleCerts } from '../support/google-certs.js';
import { targetRows } from '../support/sample-data.js';
import { SERVE_TOKEN as TOKEN, closeAfterEach, startServe } from '../support/serve.js';

const OTHER_BOOK = 'sheet-e2e-book-2';
const later = closeAfterEach();

describe("serve, the operator's cron run of every target while a person runs one tab", () => {
  it('runs the other targets', async () => {
    const certs = later(await startGoogleCerts());
    const b = later(await startBed({
      rows: targetRows('A', 6, 0),
      moreTabs: [{ title: 'Team B', rows: [HEADER, ...targetRows('B', 3, 20)] }],
      llm: { latencyMs: 400 },
      config: {
        llm: { max_workers: 1 },
        sheets: { read_quota_per_minute: 100_000, write_quota_per_minute: 100_000 },
        serve: { allow: ['alice@example.com'], google_client_id: CLIENT_ID, google_certs_url: certs.url },
      },
    }));
    b.sheets.addSpreadsheet(OTHER_BOOK, [{ title: 'Statuses', rows: [HEADER, ...targetRows('C', 3, 40)] }]);
    b.setConfig({ targets: [{ name: 'programme-a', sheet: TAB }, { name: 'team-b', sheet: 'Team B' }, { name: 'book-2', spreadsheet_id: OTHER_BOOK, sheet: 'Statuses' }] });
    const { call, idle } = later(await startServe(b));
    // Alice validates her tab (6 rows, one at a time: a few seconds).
    const hers = await call('POST', '/runs', certs.sign(idClaims('alice@example.com')), { spreadsheet_id: SPREADSHEET_ID, sheet: TAB });
    expect(hers.status).toBe(202);
    // The cron's tick, meanwhile.
    const cron = await call('POST', '/runs', TOKEN, {});
    console.log(`cron while Alice's tab runs: ${cron.status} ${JSON.stringify(cron.json)}`);
    expect(cron.status, "the whole portfolio refused for one busy tab").toBe(202);
    await idle();
    const view = await call('GET', `/runs/${String(cron.json.id)}`, TOKEN);
    const ran = ((view.json.summaries ?? []) as Array<{ target: string }>).map((s) => s.target);
    expect(ran).toEqual(expect.arrayContaining(['team-b', 'book-2']));
  }, 60_000);
});
