/**
 * Issue 11, item 2: `serve` admits one run atomically, tells the truth about it, and on
 * SIGTERM waits for it with the same deadline as Ctrl-C.
 */
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startBed, type Bed } from '../support/bed.js';
import { REPO_ROOT, lockRows, runRows, waitFor } from '../support/inspect.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

const TOKEN = 'test-token-0123456789abcdef';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const cacheOf = (b: Bed) => String((b.config.cache as { path: string }).path);

async function startServer(b: Bed) {
  const stop = new AbortController();
  const abort = new AbortController();
  let log = '';
  let exited = false;
  const done = b
    .cli(['serve', '--config', b.configPath, '--port', '0'], { stop: stop.signal, abort: abort.signal, env: { ...b.env, STATUS_VALIDATOR_TOKEN: TOKEN }, stderr: { write: (s: string) => (log += s) } })
    .finally(() => (exited = true));
  await waitFor('the server to listen', () => /listening on (\S+)/.test(log));
  const base = /listening on (\S+)/.exec(log)?.[1] ?? '';
  const get = async (route: string) => (await fetch(`${base}${route}`, { headers: { authorization: `Bearer ${TOKEN}` } })).json() as Promise<Record<string, unknown>>;
  return { stop, abort, done, base, get, exited: () => exited, log: () => log };
}

/**
 * A POST /runs whose body arrives in two parts: the headers and the first byte now, the
 * rest on `finish()` (a client on a slow link, or an Apps Script fetch behind a proxy).
 */
function slowPost(base: string, body: string): { finish: () => void; response: Promise<{ status: number; json: Record<string, unknown> }> } {
  const req = request(`${base}/runs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
  });
  const response = new Promise<{ status: number; json: Record<string, unknown> }>((resolve, reject) => {
    req.once('response', (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> }));
    });
    req.once('error', reject);
  });
  req.flushHeaders();
  req.write(body.slice(0, 1));
  return { finish: () => req.end(body.slice(1)), response };
}

describe('serve admits one run at a time', () => {
  it('gives exactly one 202 and one 409 to two POST /runs whose bodies arrive slowly, and /health names the one run', async () => {
    bed = await startBed({ rows: sampleRows(6), llm: { latencyMs: 200 }, config: { llm: { max_workers: 1 } } });
    const b = bed;
    const server = await startServer(b);
    const first = slowPost(server.base, '{"force": false}');
    const second = slowPost(server.base, '{"force": false}');
    // Neither body is complete: neither holds the tab yet, nor is answered. (A request was
    // once admitted before its body arrived; a body that never comes then held the tab for
    // everyone: test/review/serve-slow-body-lockout.test.ts.)
    let answered = false;
    void Promise.race([first.response, second.response]).then(() => (answered = true));
    await sleep(300);
    expect(answered).toBe(false);
    expect(await server.get('/health')).toMatchObject({ running: null, status: null });
    first.finish();
    second.finish();
    const answers = await Promise.all([first.response, second.response]);
    expect(answers.map((a) => a.status).sort()).toEqual([202, 409]);
    const admitted = answers.find((a) => a.status === 202)?.json;
    const refused = answers.find((a) => a.status === 409)?.json;
    expect(refused?.id).toBe(admitted?.id);

    // While it runs, /health and GET /runs/:id say so, and nothing else was started.
    await b.llm.waitForCalls(1);
    expect(await server.get('/health')).toMatchObject({ running: admitted?.id, status: 'running' });
    expect(await server.get(`/runs/${String(admitted?.id)}`)).toMatchObject({ status: 'running' });
    let view: Record<string, unknown> = {};
    for (let i = 0; i < 300; i++) {
      view = await server.get(`/runs/${String(admitted?.id)}`);
      if (view.status !== 'running') break;
      await sleep(20);
    }
    expect(view.status).toBe('finished');
    expect(await server.get('/health')).toMatchObject({ running: null, status: null });
    expect(b.llm.callCount()).toBe(6);
    expect(runRows(cacheOf(b)).map((r) => [r.trigger, r.status])).toEqual([['serve', 'completed']]);
    server.stop.abort();
    expect((await server.done).code).toBe(0);
  });
});

describe('serve on SIGTERM', () => {
  it('waits for the run in progress, which cancels its calls at the Ctrl-C deadline, saves what it has and frees the lock', async () => {
    bed = await startBed({ rows: sampleRows(6), llm: { latencyMs: 60_000 }, config: { llm: { max_workers: 2 } } });
    const b = bed;
    const server = await startServer(b);
    const post = slowPost(server.base, '{}');
    post.finish();
    const { status, json } = await post.response;
    expect(status).toBe(202);
    await b.llm.waitForCalls(2);

    // SIGTERM: the run stops starting calls; its two calls hang on; serve keeps waiting for it...
    server.stop.abort();
    await sleep(300);
    expect(server.exited()).toBe(false);
    // ...until the deadline (the CLI aborts the in-flight calls 10 s after the first signal).
    server.abort.abort();
    expect((await server.done).code).toBe(0);
    expect(server.log()).toContain('server stopped');
    expect(runRows(cacheOf(b)).map((r) => [r.id, r.status])).toEqual([[json.id, 'interrupted']]);
    expect(lockRows(cacheOf(b))).toEqual([]);
    expect(b.llm.callCount()).toBe(2);
  });

  it('as a real process: SIGTERM waits for the run, whose hanging calls are cancelled at the 10 s deadline, then exits 0', { timeout: 45_000 }, async () => {
    bed = await startBed({ rows: sampleRows(4), llm: { latencyMs: 120_000 }, config: { llm: { max_workers: 2, request_timeout_seconds: 120 } } });
    const b = bed;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'serve', '--config', b.configPath, '--port', '0'], {
      cwd: REPO_ROOT,
      env: { ...b.env, STATUS_VALIDATOR_TOKEN: TOKEN, PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    try {
      await waitFor('the server to listen', () => /listening on (\S+)/.test(log), 20_000);
      const post = slowPost(/listening on (\S+)/.exec(log)?.[1] ?? '', '{}');
      post.finish();
      const { status, json } = await post.response;
      expect(status).toBe(202);
      await b.llm.waitForCalls(2, 10_000);
      child.kill('SIGTERM');
      expect(await exited, log).toBe(0);
      expect(log).toContain('SIGTERM: finishing the calls in flight');
      expect(log).toContain('server stopped');
      expect(runRows(cacheOf(b)).map((r) => [r.id, r.status])).toEqual([[json.id, 'interrupted']]);
      expect(lockRows(cacheOf(b))).toEqual([]);
      expect(b.llm.callCount()).toBe(2);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
  });

  it('refuses a run asked for while it is stopping', async () => {
    bed = await startBed({ rows: sampleRows(2) });
    const b = bed;
    const server = await startServer(b);
    const post = slowPost(server.base, '{}');
    await sleep(100);
    server.stop.abort();
    post.finish();
    expect((await post.response).status).toBe(503);
    expect((await server.done).code).toBe(0);
    expect(b.llm.callCount()).toBe(0);
  });
});
