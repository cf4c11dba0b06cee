/**
 * Issue 13: reviewers trigger runs from the sheet as themselves (Google ID tokens checked
 * by google-auth-library against a local certificate endpoint), within per-person limits,
 * and may recheck just the rows they selected.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SPREADSHEET_ID, TAB, startBed, type Bed, type ConfigPatch } from '../support/bed.js';
import { CLIENT_ID, idClaims, startGoogleCerts, testKeys, type GoogleCerts } from '../support/google-certs.js';
import { runRows } from '../support/inspect.js';
import { sampleRows } from '../support/sample-data.js';
import { startServe } from '../support/serve.js';

const TOKEN = 'machine-token-0123456789abcdef';
const ALICE = 'alice@example.com';
const LEAD = 'lead@example.com';

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
  headers: Headers;
  json: Record<string, unknown>;
}

async function setUp(rows: number, serve: ConfigPatch = {}, config: ConfigPatch = {}) {
  certs = await startGoogleCerts();
  bed = await startBed({
    rows: sampleRows(rows),
    config: { ...config, serve: { allow: [ALICE, '@team.example.org'], admins: [LEAD], google_client_id: CLIENT_ID, google_certs_url: certs.url, ...serve } },
  });
  const b = bed;
  const served = await startServe(b, { token: TOKEN });
  stopServer = served.close;
  const { base } = served;
  const call = async (method: string, route: string, bearer: string | undefined, body?: unknown): Promise<Answer> => {
    const res = await fetch(`${base}${route}`, {
      method,
      headers: { ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
  };
  // A person's request names the spreadsheet and the tab it comes from, as the sheet's script sends them (issue 18).
  const here = { spreadsheet_id: SPREADSHEET_ID, sheet: TAB };
  const post = (bearer: string | undefined, body: Record<string, unknown> = {}) => call('POST', '/runs', bearer, bearer === TOKEN ? body : { ...here, ...body });
  /** Waits until the run has ended, as the sheet's menu does. */
  const finished = async (id: string, bearer: string) => {
    let view: Answer | undefined;
    for (let i = 0; i < 1000; i++) {
      view = await call('GET', `/runs/${id}`, bearer);
      if (view.json.status === 'finished' || view.json.status === 'failed') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return view?.json ?? {};
  };
  return { b, certs, post, call, finished, log: served.log };
}

const ids = (...n: number[]) => n.map((i) => `PRJ-${String(i).padStart(4, '0')}`);

describe('serve takes Google ID tokens from the sheet', () => {
  it('starts a run for a valid token of an allowed user (202) and records who asked', async () => {
    const { b, certs, post, finished } = await setUp(3);
    const token = certs.sign(idClaims(ALICE));
    const answer = await post(token, { rows: ids(1, 2) });
    expect(answer.status, JSON.stringify(answer.json)).toBe(202);
    expect(answer.json).toMatchObject({ rows: 2, unknownRows: [] });
    expect((await finished(String(answer.json.id), token)).status).toBe('finished');
    const run = runRows(String((b.config.cache as { path: string }).path))[0] as unknown as Record<string, unknown>;
    expect(run.triggered_by).toBe(ALICE);
    expect(JSON.parse(String(run.request))).toMatchObject({ by: ALICE, rows: ids(1, 2), force: false });
  });

  it('allows everyone of the Workspace domain (hd) an "@domain" entry names', async () => {
    const { certs, post } = await setUp(2);
    expect((await post(certs.sign(idClaims('bob@team.example.org', { hd: 'team.example.org' })))).status).toBe(202);
    // The same address on a consumer account (no hd), or another organization's hd, is not that domain.
    expect((await post(certs.sign(idClaims('carol@team.example.org')))).status).toBe(403);
    expect((await post(certs.sign(idClaims('carol@team.example.org', { hd: 'example.org' })))).status).toBe(403);
  });

  it.each([
    ['an expired token', (c: GoogleCerts) => c.sign(idClaims(ALICE, { iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 })), 401, /expired/],
    ['a token for another audience', (c: GoogleCerts) => c.sign(idClaims(ALICE, { aud: 'someone-else.apps.googleusercontent.com' })), 401, /another OAuth client/],
    ['a token whose email is not verified', (c: GoogleCerts) => c.sign(idClaims(ALICE, { email_verified: false })), 401, /not verified/],
    ['a token of an unlisted email', (c: GoogleCerts) => c.sign(idClaims('mallory@example.com')), 403, /serve\.allow/],
    ['a token signed by another key', (c: GoogleCerts) => c.sign(idClaims(ALICE), { key: testKeys().other.privateKey }), 401, /not signed by Google/],
    ['an unsigned token (alg none)', (c: GoogleCerts) => c.sign(idClaims(ALICE), { header: { alg: 'none', kid: 'test-kid-1' }, unsigned: true }), 401, /RS256/],
    ['an RS256 header with its signature cut off', (c: GoogleCerts) => `${c.sign(idClaims(ALICE)).split('.').slice(0, 2).join('.')}.`, 401, /not signed by Google/],
    ['a token from another issuer', (c: GoogleCerts) => c.sign(idClaims(ALICE, { iss: 'https://evil.example.com' })), 401, /not issued by Google/],
  ])('refuses %s and starts nothing', async (_what, make, status, message) => {
    const { b, certs, post } = await setUp(2);
    const token = make(certs);
    const answer = await post(token, {});
    expect(answer.status).toBe(status);
    expect(String(answer.json.error)).toMatch(message);
    // Neither the token nor its payload comes back.
    expect(JSON.stringify(answer.json)).not.toContain(token.split('.')[1] ?? 'x');
    expect(b.llm.callCount()).toBe(0);
  });

  it('keeps the machine token for cron callers, recorded as "token"', async () => {
    const { b, post, finished } = await setUp(2);
    const answer = await post(TOKEN, { force: true });
    expect(answer.status).toBe(202);
    await finished(String(answer.json.id), TOKEN);
    expect(runRows(String((b.config.cache as { path: string }).path)).map((r) => (r as unknown as Record<string, unknown>).triggered_by)).toEqual(['token']);
  });
});

describe('serve keeps each person within limits', () => {
  it('refuses force to a non-admin (403) and allows it to an admin', async () => {
    const { b, certs, post } = await setUp(2);
    const refused = await post(certs.sign(idClaims(ALICE)), { force: true });
    expect(refused.status).toBe(403);
    expect(String(refused.json.error)).toContain('serve.admins');
    expect(b.llm.callCount()).toBe(0);
    expect((await post(certs.sign(idClaims(LEAD)), { force: true })).status).toBe(202);
  });

  it('answers 429 with Retry-After once a person has started serve.runs_per_hour runs, while others still may', async () => {
    const { certs, post, finished } = await setUp(3, { runs_per_hour: 2 });
    const alice = certs.sign(idClaims(ALICE));
    for (const id of ids(1, 2)) {
      const answer = await post(alice, { rows: [id] });
      expect(answer.status).toBe(202);
      await finished(String(answer.json.id), alice);
    }
    const third = await post(alice, { rows: ids(3) });
    expect(third.status).toBe(429);
    const retryAfter = Number(third.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(3500);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect(third.json).toMatchObject({ runsPerHour: 2, retryAfterSeconds: retryAfter });
    expect((await post(certs.sign(idClaims(LEAD)), { rows: ids(3) })).status).toBe(202);
  });

  it('counts a refusal over the caps against runs_per_hour (it read the sheet), not a request refused before', async () => {
    const { b, certs, post } = await setUp(3, { runs_per_hour: 2, max_rows: 1 });
    const alice = certs.sign(idClaims(ALICE));
    // Refused before the sheet is read: a bad body, force by a non-admin. Not counted.
    for (let i = 0; i < 3; i++) expect((await post(alice, { row: ids(1) })).status).toBe(400);
    expect((await post(alice, { force: true })).status).toBe(403);
    const readsBefore = b.sheets.calls.filter((c) => c.op === 'values.get').length;
    // Refused over max_rows: counted, so it cannot be repeated at will.
    expect((await post(alice, {})).status).toBe(422);
    expect((await post(alice, {})).status).toBe(422);
    expect((await post(alice, {})).status).toBe(429);
    expect(b.sheets.calls.filter((c) => c.op === 'values.get').length - readsBefore).toBe(2);
    expect(b.llm.callCount()).toBe(0);
  });

  it('answers 422 with the figures when a run would recheck more than serve.max_rows rows', async () => {
    const { b, certs, post } = await setUp(4, { max_rows: 2 });
    const answer = await post(certs.sign(idClaims(ALICE)), { rows: ids(1, 2, 3) });
    expect(answer.status).toBe(422);
    expect(answer.json).toMatchObject({ rows: 3, maxRows: 2 });
    expect(String(answer.json.error)).toContain('serve.max_rows');
    expect(b.llm.callCount()).toBe(0);
  });

  it('answers 422 with the estimate when a run would cost more than serve.max_cost_usd', async () => {
    const { b, certs, post } = await setUp(4, { max_cost_usd: 0.0001 });
    const answer = await post(certs.sign(idClaims(ALICE)), {});
    expect(answer.status).toBe(422);
    expect(answer.json.maxCostUsd).toBe(0.0001);
    expect(Number(answer.json.estimatedUsd)).toBeGreaterThan(0.0001);
    expect(b.llm.callCount()).toBe(0);
  });
});

describe('serve and a model without a known price (a self-hosted endpoint)', () => {
  const selfHosted = (b: Bed) => ({ llm: { providers: [{ name: 'local', model: 'llama3.1:8b', base_url: b.llm.url, api_key_env: 'TEST_OPENAI_KEY' }] } });

  it('refuses no one when no serve.max_cost_usd was set: a cap nobody set does not refuse', async () => {
    certs = await startGoogleCerts();
    const c = certs;
    // The bed is started first so the provider's url is known, then serve reads the config.
    const b = (bed = await startBed({ rows: sampleRows(2), config: { serve: { allow: [ALICE], google_client_id: CLIENT_ID, google_certs_url: c.url } } }));
    b.setConfig(selfHosted(b));
    const served = await startServe(b, { token: null });
    stopServer = served.close;
    const { base } = served;
    const res = await fetch(`${base}/runs`, { method: 'POST', headers: { authorization: `Bearer ${c.sign(idClaims(ALICE))}` }, body: JSON.stringify({ spreadsheet_id: SPREADSHEET_ID, sheet: TAB }) });
    const json = (await res.json()) as Record<string, unknown>;
    expect(res.status, JSON.stringify(json)).toBe(202);
    expect(json).toMatchObject({ rows: 2, estimatedUsd: null });
  });

  it('stops serve at start (exit 2), and check-config, when serve.max_cost_usd is set and the model has no price', async () => {
    const b = (bed = await startBed({ rows: sampleRows(2), config: { serve: { max_cost_usd: 0.5 } } }));
    b.setConfig(selfHosted(b));
    const served = await b.cli(['serve', '--config', b.configPath, '--port', '0'], { env: { ...b.env, STATUS_VALIDATOR_TOKEN: TOKEN } });
    expect(served.code).toBe(2);
    expect(served.stderr).toContain('serve.max_cost_usd: is set ($0.5 a run) but the model "llama3.1:8b" has no known price');
    expect(served.stderr).toContain('pricing');
    expect(served.stderr).not.toContain('listening on');
    const checked = await b.cli(['check-config', '--config', b.configPath]);
    expect(checked.code).toBe(2);
    expect(checked.stderr).toContain('serve.max_cost_usd');
    // With its price set, both accept the cap.
    b.setConfig({ pricing: { 'llama3.1:8b': { input: 0.1, output: 0.2 } } });
    expect((await b.cli(['check-config', '--config', b.configPath])).code).toBe(0);
  });
});

describe('serve rechecks the selected rows', () => {
  it('asks exactly the 3 selected rows again: 3 LLM calls and 1 write', async () => {
    const { b, certs, post, finished } = await setUp(8);
    expect((await b.run()).code).toBe(0);
    const callsBefore = b.llm.callCount();
    const writesBefore = b.sheets.calls.filter((c) => c.op === 'values.batchUpdate').length;
    const token = certs.sign(idClaims(ALICE));
    const answer = await post(token, { rows: ids(2, 5, 7) });
    expect(answer.status).toBe(202);
    expect((await finished(String(answer.json.id), token)).status).toBe('finished');
    expect(b.llm.callCount() - callsBefore).toBe(3);
    expect(b.sheets.calls.filter((c) => c.op === 'values.batchUpdate').length - writesBefore).toBe(1);
  });

  it('runs the known ids and names the unknown ones; refuses (422) when none is known', async () => {
    const { b, certs, post, finished } = await setUp(3);
    const token = certs.sign(idClaims(ALICE));
    const none = await post(token, { rows: ['NOPE-1', 'NOPE-2'] });
    expect(none.status).toBe(422);
    expect(none.json.unknownRows).toEqual(['NOPE-1', 'NOPE-2']);
    const some = await post(token, { rows: [...ids(1), 'NOPE-1'] });
    expect(some.status).toBe(202);
    expect(some.json).toMatchObject({ rows: 1, unknownRows: ['NOPE-1'] });
    await finished(String(some.json.id), token);
    expect(b.llm.callCount()).toBe(1);
  });

  it('refuses an unknown field by name (400) and starts nothing', async () => {
    const { b, certs, post } = await setUp(2);
    const answer = await post(certs.sign(idClaims(ALICE)), { row: ids(1) });
    expect(answer.status).toBe(400);
    expect(String(answer.json.error)).toContain('unknown field "row"');
    expect(b.llm.callCount()).toBe(0);
  });
});

describe('the Runs tab', () => {
  it('shows who triggered each run and what they asked', async () => {
    const { b, certs, post, finished } = await setUp(3, {}, { report: { runs_sheet: 'Runs' } });
    const token = certs.sign(idClaims(ALICE));
    const first = await post(token, { rows: ids(1) });
    expect(first.status).toBe(202);
    await finished(String(first.json.id), token);
    const second = await post(TOKEN, {});
    expect(second.status).toBe(202);
    await finished(String(second.json.id), TOKEN);
    const tab = b.sheets.values('sheet-e2e-1', 'Runs');
    const header = tab[0] ?? [];
    const by = header.indexOf('Triggered by');
    const asked = header.indexOf('Request');
    expect(by).toBeGreaterThan(0);
    expect(tab.slice(1).map((r) => r[by])).toEqual([ALICE, 'token']);
    expect(tab[1]?.[asked]).toMatch(/(^|; )row PRJ-0001(;|$)/);
    expect(tab[2]?.[asked]).toContain('all rows');
    const listed = await b.cli(['runs', '--config', b.configPath]);
    expect(listed.stdout).toContain(ALICE);
  });
});
