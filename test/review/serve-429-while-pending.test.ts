// Review 3 (of the issue 18 fixes), finding: a person is told to wait an hour for a slot that is
// only pending, and given back a moment later.
//
// The fix of issue 18 item 4 reserves the hourly slot before the body is read and gives it back
// when the request ends without counting (a bad body, a busy tab, an unreadable sheet, a 503).
// A second request of the same person meanwhile is answered 429 "has used the 1 runs of the last
// hour; try again in 3600 s" (Retry-After: 3600): the slot it counts may be given back a moment
// later, and then the very same request is admitted at once. The answer does not agree with what
// the server does (issue 18 item 7: "An answer and the action must agree"); the Apps Script shows
// that alert to the person, who then waits an hour for nothing. Fixed when such a request waits for
// the pending one, or is told to retry in the seconds the pending one may take, not the hour.
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { HEADER, SPREADSHEET_ID, TAB, startBed } from '../support/bed.js';
import { CLIENT_ID, idClaims, startGoogleCerts } from '../support/google-certs.js';
import { targetRows } from '../support/sample-data.js';
import { closeAfterEach, listenTrigger } from '../support/serve.js';

const later = closeAfterEach();

describe("serve, a person's second request while her first is pending", () => {
  it('is not told to wait an hour for a slot that is then given back', async () => {
    const certs = later(await startGoogleCerts());
    const b = later(await startBed({
      rows: targetRows('A', 3, 0),
      moreTabs: [{ title: 'Team B', rows: [HEADER, ...targetRows('B', 3, 20)] }],
      config: { serve: { allow: ['alice@example.com'], google_client_id: CLIENT_ID, google_certs_url: certs.url, runs_per_hour: 1 } },
    }));
    b.setConfig({ targets: [{ name: 'programme-a', sheet: TAB }, { name: 'team-b', sheet: 'Team B' }] });
    const { port, whenIdle } = later(await listenTrigger(b, { bodyTimeoutMs: 5_000 }));
    const alice = certs.sign(idClaims('alice@example.com'));
    // Her first request: its body is on its way (a slow connection).
    const first = connect(port, '127.0.0.1');
    let firstAnswer = '';
    first.on('data', (chunk: Buffer) => (firstAnswer += chunk.toString('utf8')));
    const firstClosed = new Promise<void>((resolve) => first.on('close', () => resolve()));
    const body = '{"spreadsheet_id": "x", "sheet": "Statuses", "row": ["A-1"]}'; // a typo: "row"
    await new Promise<void>((resolve) => first.once('connect', () => resolve()));
    first.write(`POST /runs HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${alice}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const post = () => fetch(`http://127.0.0.1:${port}/runs`, { method: 'POST', headers: { authorization: `Bearer ${alice}` }, body: JSON.stringify({ spreadsheet_id: SPREADSHEET_ID, sheet: 'Team B' }) });
    const second = await post();
    const secondText = await second.text();
    // The first one's body arrives: refused (400, an unknown field), so it never counted.
    first.end(body);
    await firstClosed;
    const third = await post();
    await third.arrayBuffer();
    await whenIdle();
    console.log(`second: ${second.status} retry-after ${second.headers.get('retry-after')} ${secondText}first: ${firstAnswer.split('\r\n')[0]}; third: ${third.status}`);
    expect(firstAnswer.split('\r\n')[0]).toContain('400');
    expect(third.status, 'the slot was free a moment later').toBe(202);
    expect(Number(second.headers.get('retry-after') ?? 0), 'told to wait (seconds) for a slot that was only pending').toBeLessThanOrEqual(60);
  }, 30_000);
});
