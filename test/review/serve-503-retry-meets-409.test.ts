// Review 3 (of the issue 18 fixes), finding: the retry a 503 asks for is refused 409 "a run is
// already in progress", naming a run that never runs.
//
// The fix of issue 18 item 7 answers a slow POST /runs 503 "nothing was started: try again" and
// makes the request start nothing, but only once its plan has finished (src/server/index.ts,
// startRun: `if (!launch || deadline.passed) return;`): until then the request keeps the target's
// run slot (and the person's hourly slot). The retry the 503 asked for, made at once (the Apps
// Script user presses the menu again), is answered 409 with the id of that phantom run, whose
// GET /runs/:id then answers 404 "no such run". The answer and the action disagree again (item 7):
// told "try again", the person is told "already in progress", and nothing ever runs.
import { describe, expect, it } from 'vitest';
import { SPREADSHEET_ID, TAB, startBed } from '../support/bed.js';
import { CLIENT_ID, idClaims, startGoogleCerts } from '../support/google-certs.js';
import { sampleRows } from '../support/sample-data.js';
import { SERVE_TOKEN as TOKEN, closeAfterEach, listenTrigger } from '../support/serve.js';

const later = closeAfterEach();

describe('serve, the retry of a request answered 503 for being slow', () => {
  it('is not refused as "already in progress"', async () => {
    const certs = later(await startGoogleCerts());
    const b = later(await startBed({
      rows: sampleRows(3),
      sheets: { latencyMs: 1500 }, // the plan's read takes 1.5 s
      config: { serve: { allow: ['alice@example.com'], google_client_id: CLIENT_ID, google_certs_url: certs.url } },
    }));
    const { port, whenIdle } = later(await listenTrigger(b, { requestTimeoutMs: 400 }));
    const post = () => fetch(`http://127.0.0.1:${port}/runs`, { method: 'POST', headers: { authorization: `Bearer ${certs.sign(idClaims('alice@example.com'))}` }, body: JSON.stringify({ spreadsheet_id: SPREADSHEET_ID, sheet: TAB }) });
    const slow = await post();
    expect(slow.status).toBe(503);
    await slow.arrayBuffer();
    b.sheets.setLatency(0); // Sheets is quick again
    const retry = await post();
    const body = (await retry.json()) as { id?: string; error?: string };
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await whenIdle();
    const named = body.id ? (await fetch(`http://127.0.0.1:${port}/runs/${body.id}`, { headers: { authorization: `Bearer ${TOKEN}` } })).status : undefined;
    console.log(`retry: ${retry.status} ${JSON.stringify(body)}; the run it names, later: ${String(named)}`);
    expect(retry.status, 'the retry the 503 asked for').toBe(202);
  }, 30_000);
});
