// From the review's reproduction ../shared/reproductions/serve-people.test.ts (issue 18), adapted to today's test support; its assertions kept.
// Review 2, findings 3 and 4: serve as a person (Google ID token), over three targets in two spreadsheets.
import { describe, expect, it } from 'vitest';
import { HEADER, SPREADSHEET_ID, TAB, startBed } from '../support/bed.js';
import { CLIENT_ID, idClaims, startGoogleCerts } from '../support/google-certs.js';
import { targetRows } from '../support/sample-data.js';
import { SERVE_TOKEN as TOKEN, closeAfterEach, startServe } from '../support/serve.js';

const OTHER_BOOK = 'sheet-e2e-secret-book-2';
const later = closeAfterEach();

async function setUp(serve: Record<string, unknown>, latencyMs = 0) {
  const certs = later(await startGoogleCerts());
  const b = later(await startBed({
    rows: targetRows('A', 4, 0),
    moreTabs: [{ title: 'Team B', rows: [HEADER, ...targetRows('B', 4, 20)] }],
    llm: { latencyMs },
    config: {
      sheets: { read_quota_per_minute: 100_000, write_quota_per_minute: 100_000 },
      serve: { allow: ['alice@example.com'], google_client_id: CLIENT_ID, google_certs_url: certs.url, max_rows: 1000, max_cost_usd: 100, ...serve },
    },
  }));
  b.sheets.addSpreadsheet(OTHER_BOOK, [{ title: 'Статусы', rows: [HEADER, ...targetRows('RU', 3, 40)] }]);
  b.setConfig({ targets: [{ name: 'programme-a', sheet: TAB }, { name: 'team-b', sheet: 'Team B' }, { name: 'москва', spreadsheet_id: OTHER_BOOK, sheet: 'Статусы' }] });
  // /health names runs to the machine token only (finding 3): startServe's idle() asks with it.
  const { call, idle } = later(await startServe(b));
  return { bed: b, call, idle, alice: certs.sign(idClaims('alice@example.com')) };
}

describe('serve and a person', () => {
  it('admits at most serve.runs_per_hour runs an hour, however the requests are timed', async () => {
    const { call, idle, alice } = await setUp({ runs_per_hour: 1 }, 100);
    const answers = await Promise.all([TAB, 'Team B'].map((sheet) => call('POST', '/runs', alice, { spreadsheet_id: SPREADSHEET_ID, sheet })));
    await idle();
    expect(answers.map((a) => a.status).sort()).toEqual([202, 429]);
  });

  it("never shows a person another spreadsheet's id: /health (no token) names no run, and GET /runs/:id of a cron run shows none", async () => {
    const { call, idle, alice } = await setUp({}, 300);
    const started = await call('POST', '/runs', TOKEN, { target: 'москва' });
    expect(started.status).toBe(202);
    const id = String(started.json.id);
    const health = await call('GET', '/health');
    expect(health.status).toBe(200);
    expect(JSON.stringify(health.json)).not.toContain(id);
    await idle();
    const seen = await call('GET', `/runs/${id}`, alice);
    expect(seen.status).toBe(200);
    expect(JSON.stringify(seen.json)).not.toContain(OTHER_BOOK);
    expect(JSON.stringify(seen.json)).not.toContain('Статусы');
    // Naming her own tab does not open another tab's run either.
    const mine = await call('GET', `/runs/${id}?spreadsheet_id=${SPREADSHEET_ID}&sheet=${encodeURIComponent(TAB)}`, alice);
    expect(JSON.stringify(mine.json)).not.toContain(OTHER_BOOK);
    expect(mine.json).toMatchObject({ targets: [], summaries: [], summary: null });
    // The operator sees it all.
    expect(JSON.stringify((await call('GET', `/runs/${id}`, TOKEN)).json)).toContain(OTHER_BOOK);
  });

  it("shows a person, of a cron run over every target, only the target of the tab they name", async () => {
    const { call, idle, alice } = await setUp({}, 100);
    const started = await call('POST', '/runs', TOKEN, {});
    expect(started.status).toBe(202);
    await idle();
    const seen = await call('GET', `/runs/${String(started.json.id)}?spreadsheet_id=${SPREADSHEET_ID}&sheet=${encodeURIComponent(TAB)}`, alice);
    expect(seen.status).toBe(200);
    expect(seen.json).toMatchObject({ status: 'finished', targets: ['programme-a'], progress: null });
    expect((seen.json.summaries as Array<{ target: string }>).map((s) => s.target)).toEqual(['programme-a']);
    expect(JSON.stringify(seen.json)).not.toContain(OTHER_BOOK);
    expect(JSON.stringify(seen.json)).not.toContain('team-b');
  });

  it("nor when the person names that spreadsheet's target by name", async () => {
    const { bed, call, idle, alice } = await setUp({});
    const started = await call('POST', '/runs', alice, { target: 'москва' });
    await idle();
    const seen = started.status === 202 ? await call('GET', `/runs/${String(started.json.id)}`, alice) : started;
    expect(JSON.stringify(seen.json)).not.toContain(OTHER_BOOK);
    // A person starts only what the tab they are on names: another spreadsheet's target is refused, from their tab too.
    expect(started.status).toBe(422);
    const fromHere = await call('POST', '/runs', alice, { spreadsheet_id: SPREADSHEET_ID, sheet: TAB, target: 'москва' });
    expect(fromHere.status).toBe(422);
    expect(JSON.stringify(fromHere.json)).not.toContain(OTHER_BOOK);
    await idle();
    expect(bed?.llm.callCount()).toBe(0);
  });
});
