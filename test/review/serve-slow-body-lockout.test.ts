// Review 3 (of the issue 18 fixes), finding: any allowed person can keep everyone else out of a
// one-target server, for ever, at no cost to their serve.runs_per_hour.
//
// With one target, startRun claims the target's run slot BEFORE the body is read
// (src/server/index.ts, "early" claim), and a request whose body never arrives (408 after
// bodyTimeoutMs) is "refused before the read", so its hourly slot is given back (issue 18
// item 4's fix: "a request refused before its plan ... does not count"). Together: a person
// who opens POST /runs and trickles nothing holds the tab for 10 s, uncounted, and can do so
// again and again; every other person's "Validate now" and the operator's cron get 409 "a run is
// already in progress" (naming a run that never starts) all that time. Issue 18 item 2 asks that
// refusals cannot be repeated at will to hurt others, and item 4 that runs_per_hour bound a
// person; here neither holds. Fixed when a stalled body does not hold the tab (claim after the
// body, as with several targets) or counts against its sender: either way the other person gets
// in within runs_per_hour + 1 stalls.
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { SPREADSHEET_ID, TAB, startBed } from '../support/bed.js';
import { CLIENT_ID, idClaims, startGoogleCerts } from '../support/google-certs.js';
import { sampleRows } from '../support/sample-data.js';
import { SERVE_TOKEN as TOKEN, closeAfterEach, listenTrigger } from '../support/serve.js';

const later = closeAfterEach();

/** A POST /runs whose headers arrive and whose announced body never does; resolves with the status line once the server gives up. */
function stalledPost(port: number, bearer: string): { sent: Promise<void>; answered: Promise<string>; hangUp: () => void } {
  const socket = connect(port, '127.0.0.1');
  let data = '';
  const sent = new Promise<void>((resolve) => socket.once('connect', () => {
    socket.write(`POST /runs HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${bearer}\r\ncontent-type: application/json\r\ncontent-length: 200\r\n\r\n{"spreadsheet_id"`);
    resolve();
  }));
  socket.on('data', (chunk: Buffer) => (data += chunk.toString('utf8')));
  const answered = new Promise<string>((resolve) => {
    socket.on('close', () => resolve(data.split('\r\n')[0] ?? ''));
    socket.on('error', () => undefined);
  });
  return { sent, answered, hangUp: () => void socket.destroy() };
}

describe('serve with one target, a person whose request body never arrives', () => {
  it('cannot keep another person (or the cron) out of the tab more than serve.runs_per_hour times', async () => {
    const certs = later(await startGoogleCerts());
    const b = later(await startBed({
      rows: sampleRows(3),
      config: { serve: { allow: ['alice@example.com', 'bob@example.com'], google_client_id: CLIENT_ID, google_certs_url: certs.url, runs_per_hour: 1 } },
    }));
    const { port, whenIdle } = later(await listenTrigger(b, { bodyTimeoutMs: 600 }));
    const alice = certs.sign(idClaims('alice@example.com'));
    const bob = certs.sign(idClaims('bob@example.com'));
    const bobs: number[] = [];
    const aliceLines: string[] = [];
    // runs_per_hour is 1: Alice stalls twice that, Bob tries during each stall.
    for (let stall = 0; stall < 3; stall++) {
      const stalled = stalledPost(port, alice);
      await stalled.sent;
      // Her token checked and her request admitted (today it then holds the tab: /health shows a run starting).
      for (let i = 0; i < 25; i++) {
        const health = (await (await fetch(`http://127.0.0.1:${port}/health`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { running: unknown };
        if (health.running !== null) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const res = await fetch(`http://127.0.0.1:${port}/runs`, { method: 'POST', headers: { authorization: `Bearer ${bob}` }, body: JSON.stringify({ spreadsheet_id: SPREADSHEET_ID, sheet: TAB }) });
      bobs.push(res.status);
      await res.arrayBuffer();
      // Once refused, her connection may be kept open: hang up after the body timeout has passed in any case.
      aliceLines.push(await Promise.race([stalled.answered, new Promise<string>((resolve) => setTimeout(() => resolve('(still open)'), 2000))]));
      stalled.hangUp();
      await whenIdle();
    }
    console.log(`Bob's answers while Alice stalled: ${bobs.join(', ')}; Alice's: ${aliceLines.join(' | ')}`);
    expect(bobs, "Bob was kept out by Alice's stalled bodies, each given back to her allowance").toContain(202);
  }, 30_000);
});
