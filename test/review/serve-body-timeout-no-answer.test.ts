// Review 3 (of the issue 18 fixes), finding: a request body slower than the body timeout gets no
// answer at all, though docs/apps-script.md promises "408 a body slower than 10 s" and the server
// "Every answer is JSON".
//
// src/server/http.ts, readJson: on timeout it calls req.destroy(), which destroys the socket, and
// then returns { status: 408 }; startRun's send() writes to a dead socket. The caller sees the
// connection reset, not the 408 that says what happened (Apps Script's UrlFetchApp reports it as
// "Could not reach the validator": the person is sent to check VALIDATOR_URL, not their network).
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startBed } from '../support/bed.js';
import { sampleRows } from '../support/sample-data.js';
import { SERVE_TOKEN as TOKEN, closeAfterEach, listenTrigger } from '../support/serve.js';

const later = closeAfterEach();

describe('serve, a request body slower than its timeout', () => {
  it('is answered 408 in JSON, saying so', async () => {
    const b = later(await startBed({ rows: sampleRows(2) }));
    const { port } = later(await listenTrigger(b, { bodyTimeoutMs: 300 }));
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
  }, 30_000);
});
