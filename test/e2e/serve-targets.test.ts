/**
 * Issue 14, item 2: `serve` over the targets of one config, through HTTP against the
 * emulators: a request names its target (the spreadsheet and tab the Apps Script is
 * on, or a name); one run per target at a time while other targets run at once, all
 * through one provider gate; refusals name this spreadsheet's targets and no other's.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { HEADER, SPREADSHEET_ID, TAB, startBed, type Bed } from '../support/bed.js';
import { CLIENT_ID, idClaims, startGoogleCerts, type GoogleCerts } from '../support/google-certs.js';
import { runRows } from '../support/inspect.js';
import { targetRows } from '../support/sample-data.js';
import { startServe } from '../support/serve.js';

const TOKEN = 'machine-token-0123456789abcdef';
const ALICE = 'alice@example.com';
const TEAM_B = 'Team B';
const OTHER_BOOK = 'sheet-e2e-secret-book-2';
const CYRILLIC = 'Статусы';

let bed: Bed | undefined;
let certs: GoogleCerts | undefined;
let stopServer: (() => Promise<unknown>) | undefined;
afterEach(async () => {
  await stopServer?.();
  await bed?.close();
  await certs?.close();
  bed = undefined;
  certs = undefined;
  stopServer = undefined;
});

interface Answer {
  status: number;
  type: string;
  json: Record<string, unknown>;
}

/** Three targets: programme-a and team-b in one spreadsheet, москва in another; serve for people and the machine token. */
async function setUp(opts: { latencyMs?: number; workers?: number; rows?: number } = {}) {
  certs = await startGoogleCerts();
  const rows = opts.rows ?? 6;
  bed = await startBed({
    rows: targetRows('A', rows, 0),
    moreTabs: [{ title: TEAM_B, rows: [HEADER, ...targetRows('B', rows, 20)] }],
    llm: { latencyMs: opts.latencyMs ?? 0 },
    config: {
      llm: { max_workers: opts.workers ?? 5 },
      sheets: { read_quota_per_minute: 100_000, write_quota_per_minute: 100_000 },
      serve: { allow: [ALICE], google_client_id: CLIENT_ID, google_certs_url: certs.url, max_rows: 1000, max_cost_usd: 100, runs_per_hour: 10_000 },
    },
  });
  const b = bed;
  b.sheets.addSpreadsheet(OTHER_BOOK, [{ title: CYRILLIC, rows: [HEADER, ...targetRows('RU', 3, 40)] }]);
  b.setConfig({ targets: [{ name: 'programme-a', sheet: TAB }, { name: 'team-b', sheet: TEAM_B }, { name: 'москва', spreadsheet_id: OTHER_BOOK, sheet: CYRILLIC }] });
  const served = await startServe(b, { token: TOKEN });
  stopServer = served.close;
  const { base } = served;
  const call = async (method: string, route: string, bearer: string, body?: unknown): Promise<Answer> => {
    const res = await fetch(`${base}${route}`, {
      method,
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return { status: res.status, type: res.headers.get('content-type') ?? '', json: (await res.json()) as Record<string, unknown> };
  };
  const post = (bearer: string, body: unknown = {}) => call('POST', '/runs', bearer, body);
  const finished = async (id: string, bearer = TOKEN) => {
    let view: Record<string, unknown> = {};
    for (let i = 0; i < 1500; i++) {
      view = (await call('GET', `/runs/${id}`, bearer)).json;
      if (view.status === 'finished' || view.status === 'failed') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return view;
  };
  const alice = certs.sign(idClaims(ALICE));
  return { b, post, call, finished, alice, log: served.log };
}

const cacheOf = (b: Bed) => String((b.config.cache as { path: string }).path);

describe('serve over the targets of a config', () => {
  it('runs two targets at once (both 202) through one gate, and refuses a second run of the same target (409 naming it)', async () => {
    const { b, post, finished, call } = await setUp({ latencyMs: 120, workers: 2, rows: 8 });
    const [a, teamB] = await Promise.all([post(TOKEN, { target: 'programme-a' }), post(TOKEN, { spreadsheet_id: SPREADSHEET_ID, sheet: TEAM_B })]);
    expect(a.status, JSON.stringify(a.json)).toBe(202);
    expect(teamB.status, JSON.stringify(teamB.json)).toBe(202);
    expect(a.json.targets).toEqual(['programme-a']);
    expect(teamB.json.targets).toEqual(['team-b']);
    // While programme-a runs, another request for it is refused; one for москва is not.
    const again = await post(TOKEN, { target: 'PROGRAMME-A' });
    expect(again.status).toBe(409);
    expect(again.json).toMatchObject({ id: a.json.id, target: 'programme-a' });
    expect(String(again.json.error)).toContain('target "programme-a" has a run in progress');
    const health = (await call('GET', '/health', TOKEN)).json as { runs: Array<{ id: string }> };
    expect(health.runs.map((r) => r.id).sort()).toEqual([String(a.json.id), String(teamB.json.id)].sort());
    expect(JSON.stringify(health)).not.toContain('programme-a');
    const [viewA, viewB] = await Promise.all([finished(String(a.json.id)), finished(String(teamB.json.id))]);
    expect(viewA).toMatchObject({ status: 'finished', targets: ['programme-a'], summary: { target: 'programme-a', rows: { asked: 8 } } });
    expect(viewB).toMatchObject({ status: 'finished', targets: ['team-b'], summary: { target: 'team-b', rows: { asked: 8 } } });
    // 16 rows of two concurrent runs, never more than llm.max_workers calls at once between them.
    expect(b.llm.callCount()).toBe(16);
    expect(b.llm.peakInFlight).toBeLessThanOrEqual(2);
    expect(b.llm.peakInFlight).toBe(2);
    // A run of one target keeps the request's id as its run id.
    expect(runRows(cacheOf(b)).map((r) => r.id).sort()).toEqual([String(a.json.id), String(teamB.json.id)].sort());
  });

  it('maps a person\'s spreadsheet and tab to the target; a tab it does not check is refused naming only this spreadsheet\'s targets', async () => {
    const { b, post, finished, alice } = await setUp();
    const started = await post(alice, { spreadsheet_id: OTHER_BOOK, sheet: CYRILLIC, rows: ['RU-2'] });
    expect(started.status, JSON.stringify(started.json)).toBe(202);
    expect(started.json).toMatchObject({ targets: ['москва'], rows: 1 });
    expect(await finished(String(started.json.id))).toMatchObject({ status: 'finished', summary: { target: 'москва', rows: { asked: 1 } } });
    expect(b.llm.callCount()).toBe(1);

    const wrongTab = await post(alice, { spreadsheet_id: SPREADSHEET_ID, sheet: 'Notes' });
    expect(wrongTab.status).toBe(404);
    expect(String(wrongTab.json.error)).toContain('the tab "Notes" is not checked by this server');
    expect(wrongTab.json.targets).toEqual([{ name: 'programme-a', sheet: TAB }, { name: 'team-b', sheet: TEAM_B }]);
    // Nothing of the other spreadsheet comes back to a person in this one.
    expect(JSON.stringify(wrongTab.json)).not.toContain(OTHER_BOOK);
    expect(JSON.stringify(wrongTab.json)).not.toContain('москва');

    const wrongBook = await post(alice, { spreadsheet_id: 'some-other-book', sheet: TAB });
    expect(wrongBook.status).toBe(404);
    expect(String(wrongBook.json.error)).toContain('no target of this server is in the spreadsheet "some-other-book"');
    expect(JSON.stringify(wrongBook.json)).not.toContain(SPREADSHEET_ID);
    expect(JSON.stringify(wrongBook.json)).not.toContain(OTHER_BOOK);

    // A person is on a tab: a "target" that is not that tab's gets one answer, whether the
    // name exists in this spreadsheet, in another, or nowhere (test/review/serve-target-name-oracle:
    // a 404 for a name no target has told apart another spreadsheet's names, which answered 422).
    const unknownName = await post(alice, { spreadsheet_id: SPREADSHEET_ID, sheet: TAB, target: 'nope' });
    expect(unknownName.status).toBe(422);
    expect(String(unknownName.json.error)).toBe('the target "nope" is not the tab "Statuses" of this spreadsheet (its target: "programme-a"): send no "target", the tab you are on names it');
    const elsewhere = await post(alice, { spreadsheet_id: SPREADSHEET_ID, sheet: TAB, target: 'МОСКВА' });
    expect({ ...elsewhere, json: JSON.parse(JSON.stringify(elsewhere.json).replace("МОСКВА", "nope")) as unknown }).toEqual(unknownName);
    // A person names the spreadsheet and the tab they are on: a bare target name starts nothing (issue 18).
    const bareName = await post(alice, { target: 'москва' });
    expect(bareName.status).toBe(422);
    expect(String(bareName.json.error)).toContain('"spreadsheet_id" and "sheet"');

    const mismatch = await post(alice, { spreadsheet_id: SPREADSHEET_ID, sheet: TAB, target: 'team-b' });
    expect(mismatch.status).toBe(422);
    expect(String(mismatch.json.error)).toContain('the target "team-b" is not the tab "Statuses" of this spreadsheet');

    // A person must name one tab: row ids and limits are per tab.
    const none = await post(alice, {});
    expect(none.status).toBe(422);
    expect(String(none.json.error)).toContain('name the spreadsheet and the tab the request comes from');
    const book = await post(alice, { spreadsheet_id: SPREADSHEET_ID });
    expect(book.status).toBe(422);
    expect(String(book.json.error)).toContain('name the spreadsheet and the tab the request comes from');
    expect(JSON.stringify(book.json)).not.toContain(OTHER_BOOK);
    expect(b.llm.callCount()).toBe(1);
  });

  it('runs every target as one portfolio for the machine token naming none; GET /runs/:id shows each target\'s summary', async () => {
    const { b, post, finished, log, alice } = await setUp({ rows: 4, latencyMs: 150 });
    const started = await post(TOKEN, {});
    expect(started.status, JSON.stringify(started.json)).toBe(202);
    expect(started.json).toMatchObject({ targets: ['programme-a', 'team-b', 'москва'], rows: 4 + 4 + 3 });
    // Any of its targets is busy while it runs; a person meeting it sees its progress, not the other spreadsheets.
    expect((await post(TOKEN, { target: 'москва' })).status).toBe(409);
    const busy = await post(alice, { spreadsheet_id: SPREADSHEET_ID, sheet: TAB });
    expect(busy.status).toBe(409);
    expect(busy.json).toMatchObject({ id: started.json.id, target: 'programme-a' });
    const seen = await finished(String(started.json.id), alice);
    expect(seen).toMatchObject({ status: 'finished', summaries: [], summary: null });
    expect(JSON.stringify(seen)).not.toContain(OTHER_BOOK);
    const view = (await finished(String(started.json.id))) as { status: string; targets: string[]; summary: unknown; summaries: Array<{ target: string; group: string; rows: { asked: number } }> };
    expect(view.status).toBe('finished');
    expect(view.summary).toBeNull();
    expect(view.summaries.map((s) => [s.target, s.rows.asked])).toEqual([['programme-a', 4], ['team-b', 4], ['москва', 3]]);
    expect(new Set(view.summaries.map((s) => s.group)).size).toBe(1);
    expect(b.llm.callCount()).toBe(11);
    const runs = runRows(cacheOf(b)) as unknown as Array<{ triggered_by: string }>;
    expect(runs.map((r) => r.triggered_by)).toEqual(['token', 'token', 'token']);
    expect(log()).toMatch(/run \w+ of programme-a, team-b, москва requested by token/);
    // "rows" are one tab's ids: refused for a run of several targets.
    const rows = await post(TOKEN, { rows: ['A-1'] });
    expect(rows.status).toBe(422);
    expect(String(rows.json.error)).toContain('"rows" names the rows of one tab');
  });

  it('fails only the target whose spreadsheet answers 403 in a run of all of them', async () => {
    const { b, post, finished } = await setUp({ rows: 3 });
    b.sheets.setForbidden(OTHER_BOOK, true);
    const started = await post(TOKEN, {});
    expect(started.status).toBe(202);
    const view = (await finished(String(started.json.id))) as { status: string; error: string; summaries: Array<{ target: string; status: string }> };
    expect(view.status).toBe('failed');
    expect(view.summaries.map((s) => [s.target, s.status])).toEqual([['programme-a', 'completed'], ['team-b', 'completed'], ['москва', 'failed']]);
    expect(view.error).toMatch(/^\[москва\] .*permission/i);
    expect(b.llm.callCount()).toBe(6);
    // One target named and unreadable: 502, naming it.
    const one = await post(TOKEN, { target: 'москва' });
    expect(one.status).toBe(502);
    expect(one.json).toMatchObject({ target: 'москва' });
  });

  it('never answers a 5xx to random JSON bodies naming targets, spreadsheets and tabs', async () => {
    // Runs that take a moment, so that later bodies meet them (409).
    const { post, alice, call } = await setUp({ rows: 2, latencyMs: 40 });
    const names = ['programme-a', 'team-b', 'москва', 'PROGRAMME-A', 'nope', '', ' ', 'a'.repeat(300)];
    const books = [SPREADSHEET_ID, OTHER_BOOK, 'unknown-book', '', 'x'.repeat(250)];
    const tabs = [TAB, TEAM_B, CYRILLIC, 'Notes', 'statuses', ' Statuses', ''];
    // Mostly well-formed names (so that runs start, collide and are refused), sometimes anything at all.
    const value = (pool: string[]) => fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...pool) }, { weight: 1, arbitrary: fc.jsonValue() }, { weight: 1, arbitrary: fc.string() });
    const fields = fc.record(
      {
        target: value(names),
        spreadsheet_id: value(books),
        sheet: value(tabs),
        rows: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(['A-1'], ['RU-1', 'nope'], ['B-2']) }, { weight: 1, arbitrary: fc.jsonValue() }),
        force: fc.oneof({ weight: 3, arbitrary: fc.boolean() }, { weight: 1, arbitrary: fc.jsonValue() }),
      },
      { requiredKeys: [] },
    );
    const extra = fc.oneof({ weight: 8, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }) });
    // Half the bodies name a real target coherently (some of its name, spreadsheet and tab), so that runs start and collide.
    const triples = [['programme-a', SPREADSHEET_ID, TAB], ['team-b', SPREADSHEET_ID, TEAM_B], ['москва', OTHER_BOOK, CYRILLIC]] as const;
    const coherent = fc.tuple(fc.constantFrom(...triples), fc.subarray(['target', 'spreadsheet_id', 'sheet'] as const, { minLength: 1 })).map(([[name, book, tab], keys]) => {
      const named: Record<string, unknown> = {};
      if (keys.includes('target')) named.target = name;
      if (keys.includes('spreadsheet_id') || keys.includes('sheet')) named.spreadsheet_id = book;
      if (keys.includes('sheet')) named.sheet = tab;
      return named;
    });
    const body = fc.tuple(fc.oneof(fields, coherent), extra).map(([f, e]) => ({ ...e, ...f }));
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(body, fc.boolean(), async (sent, person) => {
        const answer = await post(person ? alice : TOKEN, sent);
        statuses.add(answer.status);
        expect(answer.status, JSON.stringify({ sent, answer: answer.json })).toBeLessThan(500);
        expect(answer.type).toContain('application/json');
        expect(typeof answer.json.error === 'string' || answer.status === 202).toBe(true);
        // A person is told of no spreadsheet but the one they named.
        if (person && answer.status !== 202) for (const id of [SPREADSHEET_ID, OTHER_BOOK]) if (id !== sent.spreadsheet_id) expect(JSON.stringify(answer.json)).not.toContain(id);
      }),
      { numRuns: 250 },
    );
    // The bodies reached every kind of answer: started, busy, refused, unknown.
    expect([...statuses].sort()).toEqual(expect.arrayContaining([202, 400, 404, 409, 422]));
    for (let i = 0; i < 500; i++) {
      const health = (await call('GET', '/health', TOKEN)).json;
      if (health.running === null) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });
});
