// Review 3 (of the issue 18 fixes), finding: a request body slower than the body timeout gets no
// answer at all, though docs/apps-script.md promises "408 a body slower than 10 s" and the server
// "Every answer is JSON".
//
// src/server/http.ts, readJson: on timeout it calls req.destroy(), which destroys the socket, and
// then returns { status: 408 }; startRun's send() writes to a dead socket. The caller sees the
// connection reset, not the 408 that says what happened (Apps Script's UrlFetchApp reports it as
// "Could not reach the validator": the person is sent to check VALIDATOR_URL, not their network).
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { loadTargets } from '../../src/commands/context.js';
import { openLasting } from '../../src/commands/lasting.js';
import { createTriggerServer } from '../../src/server/index.js';
import { startBed, type Bed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';

const TOKEN = 'machine-token-0123456789abcdef';
let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

describe('serve, a request body slower than its timeout', () => {
  it('is answered 408 in JSON, saying so', async () => {
    const b = (bed = await startBed({ rows: sampleRows(2) }));
    const { targets, listed, secrets } = loadTargets(b.configPath, { stdout: { write: () => true }, stderr: { write: () => true }, env: b.env });
    const lasting = openLasting(targets, secrets);
    const { server, whenIdle } = createTriggerServer({ targets, listed, secrets, gates: lasting.gates, token: TOKEN, log: () => undefined, bodyTimeoutMs: 300 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    try {
      const { port } = server.address() as AddressInfo;
      const socket = connect(port, '127.0.0.1');
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
      socket.on('error', () => undefined);
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      socket.write(`POST /runs HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${TOKEN}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"force"`);
      // The answer, or the connection closed without one (a kept-alive connection is hung up after 3 s).
      await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 3000))]);
      socket.destroy();
      expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
      expect(answer).toContain('"error"');
    } finally {
      await whenIdle();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      lasting.close();
    }
  }, 30_000);
});
