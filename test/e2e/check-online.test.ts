/**
 * Issue 19 item 2: `check-config --online` contacts what a run will contact and says what
 * will fail: a wrong spreadsheet id, a missing tab, a header that is not there, a sheet
 * not shared (or shared read-only), a wrong key, an unreachable endpoint, an unknown
 * model. Everything through the CLI against the emulators.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { API_KEY, HEADER, SPREADSHEET_ID, TAB, startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';
import { closedPort } from '../support/closed-port.js';

const BOT = 'bot@status-validator-test.iam.gserviceaccount.com';

let bed: Bed | undefined;
const servers: Server[] = [];
afterEach(async () => {
  await bed?.close();
  bed = undefined;
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

async function open(options: Parameters<typeof startBed>[0] = {}): Promise<Bed> {
  bed = await startBed({ rows: sampleRows(5), ...options });
  return bed;
}

/** `check-config --online` on the bed's config; the sheet must look exactly as before it. */
async function check(b: Bed, ...extra: string[]) {
  const before = b.sheets.tabs(SPREADSHEET_ID).map((tab) => b.sheets.values(SPREADSHEET_ID, tab));
  const result = await b.cli(['check-config', '--config', b.configPath, '--online', ...extra]);
  expect(b.sheets.tabs(SPREADSHEET_ID).map((tab) => b.sheets.values(SPREADSHEET_ID, tab)), 'the check changed the sheet').toEqual(before);
  expect(b.sheets.developerMetadata(SPREADSHEET_ID), 'the write check left metadata behind').toEqual([]);
  expect(b.sheets.calls.filter((c) => c.op.startsWith('values.') && c.kind === 'write'), 'the check wrote values').toEqual([]);
  expect(result.stdout + result.stderr).not.toContain(API_KEY);
  return result;
}

/** A plain-HTTP server, for an https base_url whose TLS handshake cannot succeed. */
async function plainHttpPort(): Promise<number> {
  const server = createHttpServer((_, res) => res.end('not TLS'));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('check-config --online', () => {
  it('passes a healthy config with one OK line per check, in two reads and one invisible write (exit 0)', async () => {
    const b = await open();
    // Shared with nobody but the bot, as an Editor: the check passes on the bot's own rights.
    b.sheets.share(SPREADSHEET_ID, 'none');
    b.sheets.share(SPREADSHEET_ID, 'writer', BOT);
    b.sheets.resetCalls();
    const { code, stdout } = await check(b);
    expect(code, stdout).toBe(0);
    expect(stdout).toMatch(new RegExp(`ok +readable by the service account ${BOT}`));
    expect(stdout).toMatch(new RegExp(`ok +writable by ${BOT} \\(shared as Editor\\)`));
    const columns: Array<[string, string, string]> = [['id', 'Project', 'A'], ['status', 'Status', 'B'], ['comment', 'Comment', 'C'], ['completion_date', 'Due date', 'D']];
    for (const [key, header, column] of columns) {
      expect(stdout).toMatch(new RegExp(`ok +columns\\.${key}: "${header}" is column ${column}`));
    }
    // Output columns are made by the first run: said as information, not as a problem.
    expect(stdout).toMatch(/info +output\.columns: "Validation", "Issues", "Suggested rewrite", "Checked at", "Model" are not in row 1 of tab "Statuses" yet: the first run adds them/);
    expect(stdout).toMatch(/ok +llm\.providers\[0\]\.api_key_env: the key in \$TEST_OPENAI_KEY is accepted/);
    expect(stdout).toMatch(/ok +llm\.providers\[0\]\.model: model "gpt-5-mini" is listed/);
    expect(stdout).toContain('Online check: OK');
    expect(stdout).not.toMatch(/PROBLEM|UNCHECKED|WARN/);
    expect(b.sheets.readCount()).toBe(2);
    expect(b.sheets.writeCount()).toBe(1);
    expect(b.llm.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /v1/models']);
  });

  it('reads the header rows of every target of a spreadsheet in one call and names the target whose header is wrong', async () => {
    const b = await open({ moreTabs: [{ title: 'Team B', rows: [[...HEADER, 'Owner'], ...sampleRows(3).map((r) => [...r, 'Ann'])] }] });
    b.setConfig({ targets: [{ name: 'programme-a', sheet: TAB }, { name: 'team-b', sheet: 'Team B', columns: { inputs: { owner: 'Owners' } } }] });
    b.sheets.resetCalls();
    const { code, stdout } = await check(b);
    expect(code, stdout).toBe(2);
    expect(stdout).toContain('target "team-b" (tab "Team B")');
    expect(stdout).toMatch(/PROBLEM +columns\.inputs\.owner: no column "Owners" in row 1 of tab "Team B" \(did you mean "Owner"\?\)/);
    expect(stdout).toContain('fix: Set columns.inputs.owner to "Owner"');
    expect(b.sheets.calls.filter((c) => c.op === 'values.batchGet')).toHaveLength(1);
    expect(b.sheets.readCount()).toBe(2);
    // --target checks that target only.
    const one = await check(b, '--target', 'programme-a');
    expect(one.code, one.stdout).toBe(0);
    expect(one.stdout).toContain('target "programme-a" (tab "Statuses")');
    expect(one.stdout).not.toContain('team-b');
  });

  it('names a header that does not exist, with a did-you-mean and the fix (exit 2)', async () => {
    const b = await open();
    b.setConfig({ columns: { comment: 'Comments' } });
    const { code, stdout } = await check(b);
    expect(code, stdout).toBe(2);
    expect(stdout).toMatch(/PROBLEM +columns\.comment: no column "Comments" in row 1 of tab "Statuses" \(did you mean "Comment"\?\)/);
    expect(stdout).toContain('fix: Set columns.comment to "Comment", or rename the column in the sheet to "Comments".');
    expect(stdout).toContain('Online check: 1 problem to fix before a run.');
  });

  it('matches headers trimmed and case-insensitively, as the run does', async () => {
    const b = await open({ header: ['  project ', 'STATUS', 'comment', 'Due  date', 'Validaton'] });
    const { code, stdout } = await check(b);
    expect(code, stdout).toBe(0);
    expect(stdout).toMatch(/ok +columns\.comment: "Comment" is column C/);
    // An output header near an existing one: the run would add a second column beside it.
    expect(stdout).toMatch(/WARN +output\.columns\.verdict: "Validation" is not in row 1 of tab "Statuses" \(did you mean "Validaton"\?\)/);
  });

  it('says the header row is empty and points at sheets.header_row', async () => {
    const b = await open({ header: [], rows: [[], HEADER, ...sampleRows(2)] });
    const { code, stdout } = await check(b);
    expect(code, stdout).toBe(2);
    expect(stdout).toContain('fix: Row 1 is empty: set sheets.header_row to the row that holds the headers.');
  });

  it('in results-tab mode checks only the input headers on the data tab and says which own tabs the first run adds', async () => {
    const b = await open({ moreTabs: [{ title: 'Runs', rows: [] }] });
    b.setConfig({ output: { sheet: 'Results' }, report: { runs_sheet: 'Runs' } });
    const { code, stdout } = await check(b);
    expect(code, stdout).toBe(0);
    expect(stdout).toMatch(/info +output\.sheet: the tab "Results" is not there yet: the first run adds it/);
    expect(stdout).toMatch(/info +report\.runs_sheet: the tab "Runs" is there/);
    expect(stdout).not.toContain('output.columns');
  });

  it('says a header row below the grid is wrong without failing the other checks', async () => {
    const b = await open({ rowCount: 50 });
    b.setConfig({ sheets: { header_row: 80 } });
    const { code, stdout } = await check(b);
    expect(code, stdout).toBe(2);
    expect(stdout).toMatch(/PROBLEM +sheets\.header_row: header row 80 is below the last row of tab "Statuses" \(it has 50 rows\)/);
    expect(stdout).toMatch(/ok +writable by/);
  });

  it('reports a wrong spreadsheet id as 404 with where to find the id (exit 2)', async () => {
    const b = await open();
    b.setConfig({ sheets: { spreadsheet_id: 'no-such-sheet' } });
    const { code, stdout } = await check(b);
    expect(code, stdout).toBe(2);
    expect(stdout).toContain('spreadsheet no-such-sheet');
    expect(stdout).toMatch(/PROBLEM +sheets\.spreadsheet_id: no spreadsheet with this id \(404\)/);
    expect(stdout).toContain('fix: Copy the id from the sheet URL: the part between /d/ and /edit.');
  });

  it('reports a missing tab with a did-you-mean over the tab names (exit 2)', async () => {
    const b = await open();
    b.setConfig({ sheets: { sheet: 'Statuse' } });
    const { code, stdout } = await check(b);
    expect(code, stdout).toBe(2);
    expect(stdout).toMatch(/PROBLEM +sheets\.sheet: no tab "Statuse" in spreadsheet sheet-e2e-1 \(did you mean "Statuses"\?\); its tabs: "Statuses"/);
    expect(stdout).toContain('fix: Set the tab name to "Statuses".');
  });

  it('reports a sheet not shared with the service account, naming its email (exit 2)', async () => {
    const b = await open();
    b.sheets.share(SPREADSHEET_ID, 'none');
    const { code, stdout } = await check(b);
    expect(code, stdout).toBe(2);
    expect(stdout).toContain(`the spreadsheet is not shared with the service account ${BOT} (403)`);
    expect(stdout).toContain(`fix: In the sheet, Share → add ${BOT} as an Editor.`);
  });

  it('finds a sheet shared read-only: the headers check out, the write check gets 403 (exit 2)', async () => {
    const b = await open();
    b.sheets.share(SPREADSHEET_ID, 'reader', BOT);
    const { code, stdout } = await check(b);
    expect(code, stdout).toBe(2);
    expect(stdout).toMatch(/ok +columns\.comment: "Comment" is column C/);
    expect(stdout).toContain(`${BOT} may read this spreadsheet but not write to it (403 on a write`);
    expect(stdout).toContain(`fix: In the sheet, Share → change ${BOT} to Editor.`);
    const write = b.sheets.calls.find((c) => c.kind === 'write');
    expect(write?.status).toBe(403);
  });

  it('reports a wrong key naming its environment variable, never the key (exit 2)', async () => {
    const b = await open();
    b.env.TEST_OPENAI_KEY = 'sk-wrong-key-0123456789';
    const { code, stdout, stderr } = await check(b);
    expect(code, stdout).toBe(2);
    expect(stdout).toMatch(/PROBLEM +llm\.providers\[0\]\.api_key_env: 127\.0\.0\.1:\d+ refused the key in \$TEST_OPENAI_KEY \(401\)/);
    expect(stdout + stderr).not.toContain('sk-wrong-key-0123456789');
  });

  it('reports an endpoint on a closed port as unreachable, naming the host (exit 2)', async () => {
    const b = await open();
    const port = await closedPort();
    b.setConfig({ llm: { providers: [{ name: 'emulator', model: 'gpt-5-mini', base_url: `http://127.0.0.1:${port}/v1`, api_key_env: 'TEST_OPENAI_KEY' }] } });
    const { code, stdout } = await check(b);
    expect(code, stdout).toBe(2);
    expect(stdout).toContain(`provider "emulator" (127.0.0.1:${port})`);
    expect(stdout).toMatch(new RegExp(`PROBLEM +llm\\.providers\\[0\\]\\.base_url: 127\\.0\\.0\\.1:${port} cannot be reached: connection refused`));
  });

  it('reports an https endpoint whose TLS handshake fails as unreachable (exit 2)', async () => {
    const b = await open();
    const port = await plainHttpPort();
    b.setConfig({ llm: { providers: [{ name: 'emulator', model: 'gpt-5-mini', base_url: `https://127.0.0.1:${port}/v1`, api_key_env: 'TEST_OPENAI_KEY' }] } });
    const { code, stdout } = await check(b);
    expect(code, stdout).toBe(2);
    expect(stdout).toMatch(new RegExp(`127\\.0\\.0\\.1:${port} cannot be reached: the TLS handshake failed`));
  });

  it('reports a model the endpoint does not list, with a did-you-mean among the listed ones (exit 2)', async () => {
    const b = await open();
    b.setConfig({ llm: { providers: [{ name: 'emulator', model: 'gpt-5-mni', base_url: b.llm.url, api_key_env: 'TEST_OPENAI_KEY' }] } });
    const { code, stdout } = await check(b);
    expect(code, stdout).toBe(2);
    expect(stdout).toMatch(/PROBLEM +llm\.providers\[0\]\.model: model "gpt-5-mni" is not among the models 127\.0\.0\.1:\d+ lists for this key \(did you mean "gpt-5-mini"\?\)/);
    expect(stdout).toContain('fix: Set llm.providers[0].model to "gpt-5-mini".');
  });

  it('exits 1 when the Sheets API cannot be reached at all: nothing could be checked there', async () => {
    const b = await open();
    b.setConfig({ sheets: { api_root: `http://127.0.0.1:${await closedPort()}/` } });
    const { code, stdout } = await check(b);
    expect(code, stdout).toBe(1);
    expect(stdout).toMatch(/UNCHECKED +could not reach the Sheets API/);
    expect(stdout).toContain('Online check: 1 check could not be made (see UNCHECKED above)');
  });

  it('turns any answer of a GET /models into a finding, never an internal error', async () => {
    const b = await open();
    let reply = { status: 200, body: '' };
    const server = createHttpServer((_, res) => {
      res.writeHead(reply.status, { 'content-type': 'application/json' });
      res.end(reply.body);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    // 25 checks in a row: the Sheets quota (paced evenly, as for a run) must not be what the test waits on.
    b.setConfig({ sheets: { read_quota_per_minute: 100_000, write_quota_per_minute: 100_000 }, llm: { providers: [{ name: 'odd', model: 'gpt-5-mini', base_url: `http://127.0.0.1:${port}/v1`, api_key_env: 'TEST_OPENAI_KEY' }] } });
    const body = fc.oneof(
      fc.json(),
      fc.string(),
      fc.record({ data: fc.array(fc.oneof(fc.record({ id: fc.oneof(fc.string(), fc.integer(), fc.constant(null)) }), fc.anything()), { maxLength: 4 }) }).map((v) => JSON.stringify(v)),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(200, 200, 200, 401, 403, 404, 429, 500), body, async (status, text) => {
        reply = { status, body: text };
        const { code, stdout, stderr } = await b.cli(['check-config', '--config', b.configPath, '--online']);
        expect(stderr).not.toContain('Internal error');
        expect([0, 1, 2]).toContain(code);
        expect(stdout).toContain(`provider "odd" (127.0.0.1:${port})`);
        // It answered: whatever it said, it was reached.
        expect(stdout).not.toMatch(/could not reach 127|cannot be reached/);
        if (status === 401) expect(stdout).toContain('refused the key in $TEST_OPENAI_KEY (401)');
      }),
      { numRuns: 25 },
    );
  });

  it('documents its exit codes in --help', async () => {
    const b = await open();
    const { code, stdout } = await b.cli(['check-config', '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('--online');
    expect(stdout).toMatch(/exit codes: 0 everything checked and fine; 2 a problem to fix/);
  });
});
