import OpenAI, { AuthenticationError, BadRequestError, ConflictError, NotFoundError, toFile } from 'openai';
import type { Batch } from 'openai/resources/batches';
import type { ChatCompletion } from 'openai/resources/chat/completions';
import { afterEach, describe, expect, it } from 'vitest';

import {
  BATCH_EXPIRED_MESSAGE,
  defaultVerdict,
  startOpenAIEmulator,
  type Answer,
  type OpenAIEmulator,
  type OpenAIEmulatorOptions,
  type RowInput,
} from '../support/openai-emulator/index.js';

const API_KEY = 'sk-test-emulator-key-0123456789abcd';
const MODEL = 'gpt-4o-mini';
const SYSTEM_PROMPT = 'You validate project status rows and answer in JSON.';
const TERMINAL = new Set(['failed', 'completed', 'expired', 'cancelled']);

let emu: OpenAIEmulator | undefined;

afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

async function start(opts: OpenAIEmulatorOptions = {}): Promise<{ emu: OpenAIEmulator; client: OpenAI }> {
  emu = await startOpenAIEmulator({ apiKey: API_KEY, ...opts });
  return { emu, client: new OpenAI({ apiKey: API_KEY, baseURL: emu.url, maxRetries: 0 }) };
}

/** A manual clock for the emulator: batch statuses move only when the test moves it. */
function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let t = Date.UTC(2026, 0, 5, 9, 0, 0);
  return { now: () => t, advance: (ms) => (t += ms) };
}

function row(i: number, comment = `Shipped milestone ${i}; docs and rollout are scheduled`): RowInput {
  return { id: `P-${i}`, status: 'In progress', comment };
}

/** One JSONL request line shaped like the bot's chat request for a row. */
function line(customId: string, r: RowInput, model = MODEL): Record<string, unknown> {
  return {
    custom_id: customId,
    method: 'POST',
    url: '/v1/chat/completions',
    body: {
      model,
      temperature: 0,
      prompt_cache_key: 'status-validator-v1',
      response_format: { type: 'json_object' },
      messages: [
        { role: 'system', content: SYSTEM_PROMPT },
        { role: 'user', content: `Check this row.\nRow to validate:\n${JSON.stringify(r)}` },
      ],
    },
  };
}

function jsonl(items: readonly unknown[]): string {
  return items.map((item) => (typeof item === 'string' ? item : JSON.stringify(item))).join('\n') + '\n';
}

async function upload(client: OpenAI, text: string, filename = 'batch.jsonl'): Promise<OpenAI.Files.FileObject> {
  return client.files.create({ file: await toFile(Buffer.from(text, 'utf8'), filename), purpose: 'batch' });
}

async function createBatch(client: OpenAI, text: string, metadata?: Record<string, string>): Promise<Batch> {
  const file = await upload(client, text);
  return client.batches.create({
    input_file_id: file.id,
    endpoint: '/v1/chat/completions',
    completion_window: '24h',
    ...(metadata ? { metadata } : {}),
  });
}

/** Retrieve until the batch is in a final status (real time; the default timings are ~200 ms). */
async function pollUntilDone(client: OpenAI, id: string, seen: string[] = [], timeoutMs = 20_000): Promise<Batch> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const batch = await client.batches.retrieve(id);
    if (seen[seen.length - 1] !== batch.status) seen.push(batch.status);
    if (TERMINAL.has(batch.status)) return batch;
    if (Date.now() > deadline) throw new Error(`batch ${id} still ${batch.status} after ${timeoutMs}ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

interface OutputLine {
  id: string;
  custom_id: string;
  response: { status_code: number; request_id: string; body: unknown } | null;
  error: { code: string; message: string } | null;
}

async function download(client: OpenAI, fileId: string | null | undefined): Promise<OutputLine[]> {
  if (typeof fileId !== 'string') throw new Error('expected a file id');
  const text = await (await client.files.content(fileId)).text();
  expect(text.endsWith('\n')).toBe(true);
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as OutputLine);
}

function completionOf(out: OutputLine): ChatCompletion {
  if (out.response === null) throw new Error(`no response for ${out.custom_id}`);
  return out.response.body as ChatCompletion;
}

function contentOf(out: OutputLine): string {
  const content = completionOf(out).choices[0]?.message.content;
  if (typeof content !== 'string') throw new Error(`no content for ${out.custom_id}`);
  return content;
}

describe('openai emulator batch: happy path through the SDK', () => {
  it('runs an uploaded batch from validating to completed and answers every custom_id with the default verdict', async () => {
    const { emu, client } = await start();
    const rows = [row(1), row(2, 'TBD'), row(3)];
    const created = await createBatch(client, jsonl(rows.map((r, i) => line(`row-${i + 1}`, r))), { run: 'nightly-7' });
    expect(created).toMatchObject({
      object: 'batch',
      status: 'validating',
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      output_file_id: null,
      error_file_id: null,
      in_progress_at: null,
      completed_at: null,
      errors: null,
      metadata: { run: 'nightly-7' },
      request_counts: { total: 0, completed: 0, failed: 0 },
    });
    expect(created.id).toMatch(/^batch_[0-9a-f]{32}$/);
    expect(created.expires_at).toBe(created.created_at + 24 * 3600);

    const seen = ['validating'];
    const done = await pollUntilDone(client, created.id, seen);
    expect(seen[seen.length - 1]).toBe('completed');
    expect(seen).toContain('in_progress');
    expect(done.request_counts).toEqual({ total: 3, completed: 3, failed: 0 });
    expect(done.model).toBe(MODEL);
    expect(done.error_file_id).toBeNull();
    expect(done.in_progress_at).toEqual(expect.any(Number));
    expect(done.finalizing_at).toEqual(expect.any(Number));
    expect(done.completed_at).toEqual(expect.any(Number));

    const out = await download(client, done.output_file_id);
    expect(out.map((o) => o.custom_id)).toEqual(['row-1', 'row-2', 'row-3']);
    for (const [i, o] of out.entries()) {
      expect(o.id).toMatch(/^batch_req_/);
      expect(o.error).toBeNull();
      expect(o.response?.status_code).toBe(200);
      expect(o.response?.request_id).toMatch(/^[0-9a-f]{32}$/);
      expect(JSON.parse(contentOf(o))).toEqual(defaultVerdict(rows[i] ?? {}));
      const usage = completionOf(o).usage;
      expect(usage?.prompt_tokens).toBeGreaterThan(0);
      expect(usage?.prompt_tokens_details?.cached_tokens).toBe(0);
    }
    expect(done.usage?.input_tokens).toBe(out.reduce((sum, o) => sum + (completionOf(o).usage?.prompt_tokens ?? 0), 0));
    expect(emu.batchLineCount()).toBe(3);
    expect(emu.callCount()).toBe(0);
  });

  it('records every file and batch call in emu.requests with its status and body', async () => {
    const { emu, client } = await start();
    const batch = await createBatch(client, jsonl([line('a', row(1))]));
    const done = await pollUntilDone(client, batch.id);
    await download(client, done.output_file_id);
    await client.batches.list();

    const calls = emu.requests.map((r) => `${r.method} ${r.path} ${r.status}`);
    expect(calls[0]).toBe('POST /v1/files 200');
    expect(calls[1]).toBe('POST /v1/batches 200');
    expect(calls).toContain(`GET /v1/batches/${batch.id} 200`);
    expect(calls).toContain(`GET /v1/files/${done.output_file_id}/content 200`);
    expect(calls[calls.length - 1]).toBe('GET /v1/batches 200');
    expect(emu.requests[0]?.body).toMatchObject({ purpose: 'batch', filename: 'batch.jsonl' });
    expect((emu.requests[0]?.body as { bytes?: unknown } | undefined)?.bytes).toBeGreaterThan(0);
    expect(emu.requests[1]?.body).toMatchObject({ input_file_id: batch.input_file_id, completion_window: '24h' });
    expect(emu.requests.every((r) => r.requestId.startsWith('req_'))).toBe(true);
  });

  it('derives the status from elapsed emulator-clock time on each retrieve, answering lines in proportion during in_progress', async () => {
    const clock = manualClock();
    const { emu, client } = await start({ now: clock.now, batch: { validatingMs: 1_000, inProgressMs: 4_000, finalizingMs: 1_000 } });
    const batch = await createBatch(client, jsonl([1, 2, 3, 4].map((i) => line(`r${i}`, row(i)))));

    clock.advance(999);
    expect((await client.batches.retrieve(batch.id)).status).toBe('validating');
    clock.advance(1);
    const started = await client.batches.retrieve(batch.id);
    expect(started.status).toBe('in_progress');
    expect(started.request_counts).toEqual({ total: 4, completed: 0, failed: 0 });
    clock.advance(2_000);
    expect((await client.batches.retrieve(batch.id)).request_counts).toEqual({ total: 4, completed: 2, failed: 0 });
    expect(emu.batchLineCount()).toBe(2);
    clock.advance(2_000);
    const finalizing = await client.batches.retrieve(batch.id);
    expect(finalizing.status).toBe('finalizing');
    expect(finalizing.request_counts?.completed).toBe(4);
    expect(finalizing.output_file_id).toBeNull();
    clock.advance(1_000);
    const completed = await client.batches.retrieve(batch.id);
    expect(completed.status).toBe('completed');
    expect(completed.completed_at).toBe(completed.created_at + 6);
    expect(completed.output_file_id).toMatch(/^file-/);
    expect(emu.batches()[0]?.status).toBe('completed');
  });

  it('moves a batch with advanceBatch without waiting for its timings', async () => {
    const { emu, client } = await start({ batch: { validatingMs: 3_600_000 } });
    const batch = await createBatch(client, jsonl([line('x', row(1)), line('y', row(2))]));
    const inProgress = await emu.advanceBatch(batch.id, 'in_progress', { lines: 1 });
    expect(inProgress.status).toBe('in_progress');
    expect(inProgress.request_counts).toEqual({ total: 2, completed: 1, failed: 0 });
    const completed = await emu.advanceBatch(batch.id, 'completed');
    expect(completed.status).toBe('completed');
    expect((await download(client, completed.output_file_id)).map((o) => o.custom_id)).toEqual(['x', 'y']);
    await expect(emu.advanceBatch(batch.id, 'in_progress')).rejects.toThrow(/is completed/);
  });

  it('answers batch lines with the emulator responder and chat checks: custom verdicts, unknown models as 404 lines', async () => {
    const { emu, client } = await start({
      models: [MODEL],
      respond: (r): Answer => ({ is_valid: r.id === 'P-1', issues: [], rewrite_suggestion: `custom ${String(r.id)}` }),
    });
    const batch = await createBatch(client, jsonl([line('ok', row(1)), line('other', row(2))]));
    const done = await pollUntilDone(client, batch.id);
    const [ok, other] = await download(client, done.output_file_id);
    expect(ok && JSON.parse(contentOf(ok))).toEqual({ is_valid: true, issues: [], rewrite_suggestion: 'custom P-1' });
    expect(other && JSON.parse(contentOf(other))).toEqual({ is_valid: false, issues: [], rewrite_suggestion: 'custom P-2' });

    emu.setRespond(() => 'plain text answer');
    const second = await createBatch(client, jsonl([line('one', row(1)), line('two', row(2))]));
    const secondDone = await pollUntilDone(client, second.id);
    expect((await download(client, secondDone.output_file_id)).map(contentOf)).toEqual(['plain text answer', 'plain text answer']);

    const unknown = await createBatch(client, jsonl([line('u1', row(1), 'gpt-unknown')]));
    const unknownDone = await pollUntilDone(client, unknown.id);
    expect(unknownDone.status).toBe('completed');
    expect(unknownDone.output_file_id).toBeNull();
    expect(unknownDone.request_counts).toEqual({ total: 1, completed: 0, failed: 1 });
    const [err] = await download(client, unknownDone.error_file_id);
    expect(err?.response?.status_code).toBe(404);
    expect(err?.response?.body).toMatchObject({ error: { code: 'model_not_found', type: 'invalid_request_error' } });
  });

  it('reports cached prompt tokens for batch lines that share a long prefix under one prompt_cache_key', async () => {
    const { client } = await start();
    const longSystem = `${SYSTEM_PROMPT} ${'Rules: be strict about dates and owners. '.repeat(150)}`;
    const withSystem = (customId: string, r: RowInput): Record<string, unknown> => {
      const l = line(customId, r);
      const body = l['body'] as { messages: { role: string; content: string }[] };
      body.messages[0] = { role: 'system', content: longSystem };
      return l;
    };
    const batch = await createBatch(client, jsonl([withSystem('first', row(1)), withSystem('second', row(2))]));
    const done = await pollUntilDone(client, batch.id);
    const [first, second] = await download(client, done.output_file_id);
    expect(first && completionOf(first).usage?.prompt_tokens_details?.cached_tokens).toBe(0);
    expect(second && completionOf(second).usage?.prompt_tokens_details?.cached_tokens).toBeGreaterThanOrEqual(1024);
    expect(done.usage?.input_tokens_details.cached_tokens).toBe(second && completionOf(second).usage?.prompt_tokens_details?.cached_tokens);
  });
});

describe('openai emulator batch: line faults, expiry and cancel', () => {
  it('puts lines failed by an injected fault in the error file and keeps malformed answers as 200 lines in the output', async () => {
    const { emu, client } = await start();
    emu.injectBatchLineFault({ kind: 'status', status: 500 }, { match: (l) => l.customId === 'row-2' });
    emu.injectBatchLineFault({ kind: 'malformed' }, { match: (l) => l.row?.id === 'P-3' });
    emu.injectBatchLineFault({ kind: 'rate_limit' }, { match: (l) => l.customId === 'row-4' });
    const text = jsonl([line('row-1', row(1)), line('row-2', row(2)), line('row-3', row(3)), line('row-4', row(4))]);
    const done = await pollUntilDone(client, (await createBatch(client, text)).id);

    expect(done.status).toBe('completed');
    expect(done.request_counts).toEqual({ total: 4, completed: 2, failed: 2 });
    expect(emu.pendingBatchLineFaults()).toBe(0);
    expect(emu.batchLineCount()).toBe(4);

    const out = await download(client, done.output_file_id);
    expect(out.map((o) => o.custom_id)).toEqual(['row-1', 'row-3']);
    const malformed = out[1];
    expect(malformed?.response?.status_code).toBe(200);
    expect(() => JSON.parse(malformed ? contentOf(malformed) : '') as unknown).toThrow(SyntaxError);

    const errors = await download(client, done.error_file_id);
    expect(errors.map((e) => [e.custom_id, e.response?.status_code])).toEqual([
      ['row-2', 500],
      ['row-4', 429],
    ]);
    expect(errors[0]?.error).toBeNull();
    expect(errors[0]?.response?.body).toMatchObject({ error: { type: 'server_error' } });
    expect(errors[1]?.response?.body).toMatchObject({ error: { code: 'rate_limit_exceeded' } });
  });

  it('answers a line whose body has no messages with a 400 line in the error file', async () => {
    const { client } = await start();
    const broken = { custom_id: 'broken', method: 'POST', url: '/v1/chat/completions', body: { model: MODEL } };
    const done = await pollUntilDone(client, (await createBatch(client, jsonl([line('fine', row(1)), broken]))).id);
    expect(done.request_counts).toEqual({ total: 2, completed: 1, failed: 1 });
    const [err] = await download(client, done.error_file_id);
    expect(err).toMatchObject({ custom_id: 'broken', response: { status_code: 400, body: { error: { param: 'messages' } } }, error: null });
  });

  it('expires a batch midway with expireBatch: answered lines in the output file, the rest batch_expired in the error file', async () => {
    const { emu, client } = await start({ batch: { inProgressMs: 3_600_000 } });
    const batch = await createBatch(client, jsonl([1, 2, 3, 4].map((i) => line(`r${i}`, row(i)))));
    await emu.advanceBatch(batch.id, 'in_progress', { lines: 2 });
    const expired = await emu.expireBatch(batch.id);
    expect(expired.status).toBe('expired');

    const seen = await client.batches.retrieve(batch.id);
    expect(seen.status).toBe('expired');
    expect(seen.expired_at).toEqual(expect.any(Number));
    expect(seen.completed_at).toBeNull();
    expect(seen.request_counts).toEqual({ total: 4, completed: 2, failed: 2 });
    expect((await download(client, seen.output_file_id)).map((o) => o.custom_id)).toEqual(['r1', 'r2']);
    const errors = await download(client, seen.error_file_id);
    expect(errors.map((e) => e.custom_id)).toEqual(['r3', 'r4']);
    for (const e of errors) {
      expect(e.response).toBeNull();
      expect(e.error).toEqual({ code: 'batch_expired', message: BATCH_EXPIRED_MESSAGE });
    }
    expect(emu.batchLineCount()).toBe(2);
    await expect(emu.expireBatch(batch.id)).rejects.toThrow(/expired/);
  });

  it('expires a batch on its own when the 24h completion window passes on the emulator clock', async () => {
    const clock = manualClock();
    const day = 24 * 3_600_000;
    const { client } = await start({ now: clock.now, batch: { validatingMs: 0, inProgressMs: 2 * day } });
    const batch = await createBatch(client, jsonl([1, 2, 3, 4].map((i) => line(`r${i}`, row(i)))));
    clock.advance(day / 4);
    expect((await client.batches.retrieve(batch.id)).request_counts?.completed).toBe(0);
    clock.advance(day);
    const expired = await client.batches.retrieve(batch.id);
    expect(expired.status).toBe('expired');
    expect(expired.expired_at).toBe(expired.expires_at);
    expect(expired.request_counts).toEqual({ total: 4, completed: 2, failed: 2 });
  });

  it('cancels an in-progress batch: cancelling, then cancelled with partial output and no more lines answered', async () => {
    const { emu, client } = await start({ batch: { inProgressMs: 3_600_000, cancellingMs: 30 } });
    const batch = await createBatch(client, jsonl([line('a', row(1)), line('b', row(2)), line('c', row(3))]));
    await emu.advanceBatch(batch.id, 'in_progress', { lines: 1 });

    const cancelling = await client.batches.cancel(batch.id);
    expect(cancelling.status).toBe('cancelling');
    expect(cancelling.cancelling_at).toEqual(expect.any(Number));
    const cancelled = await pollUntilDone(client, batch.id);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.cancelled_at).toEqual(expect.any(Number));
    expect(cancelled.request_counts).toEqual({ total: 3, completed: 1, failed: 0 });
    expect((await download(client, cancelled.output_file_id)).map((o) => o.custom_id)).toEqual(['a']);
    expect(cancelled.error_file_id).toBeNull();
    expect(emu.batchLineCount()).toBe(1);
    expect((await client.batches.cancel(batch.id)).status).toBe('cancelled');
  });

  it('refuses to cancel a completed batch with 409', async () => {
    const { client } = await start();
    const done = await pollUntilDone(client, (await createBatch(client, jsonl([line('a', row(1))]))).id);
    const err: unknown = await client.batches.cancel(done.id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as ConflictError).message).toMatch(/status 'completed'/);
  });
});

describe('openai emulator batch: input file validation', () => {
  const ok = (id: string, model = MODEL): Record<string, unknown> => line(id, row(1), model);
  const noCustomId = { method: 'POST', url: '/v1/chat/completions', body: { model: MODEL } };
  const cases: { name: string; lines: unknown[]; opts?: OpenAIEmulatorOptions['batch']; code: string; line: number | null; param?: string }[] = [
    { name: 'a duplicate custom_id', lines: [ok('a'), ok('b'), ok('a')], code: 'duplicate_custom_id', line: 3, param: 'custom_id' },
    { name: 'two models in one file', lines: [ok('a'), ok('b', 'gpt-4o')], code: 'model_mismatch', line: 2, param: 'body.model' },
    { name: 'a line that is not JSON', lines: [ok('a'), '{"custom_id": "b", "method": "POST",'], code: 'invalid_json_line', line: 2 },
    { name: 'a line for another endpoint', lines: [{ ...ok('a'), url: '/v1/embeddings' }], code: 'url_mismatch', line: 1, param: 'url' },
    { name: 'a line with method GET', lines: [{ ...ok('a'), method: 'GET' }], code: 'invalid_value', line: 1, param: 'method' },
    { name: 'a line without custom_id', lines: [noCustomId], code: 'missing_required_parameter', line: 1, param: 'custom_id' },
    { name: 'an empty file', lines: [''], code: 'empty_file', line: null },
    { name: 'more lines than maxRequests', lines: [ok('a'), ok('b'), ok('c')], opts: { maxRequests: 2 }, code: 'too_many_tasks', line: null },
    { name: 'a file larger than maxInputBytes', lines: [ok('a')], opts: { maxInputBytes: 100 }, code: 'file_too_large', line: null },
  ];

  it.each(cases)('fails the batch for $name with an errors.data entry and answers no line', async (c) => {
    const { emu, client } = await start(c.opts ? { batch: c.opts } : {});
    const failed = await pollUntilDone(client, (await createBatch(client, jsonl(c.lines))).id);
    expect(failed.status).toBe('failed');
    expect(failed.failed_at).toEqual(expect.any(Number));
    expect(failed.output_file_id).toBeNull();
    expect(failed.error_file_id).toBeNull();
    expect(failed.errors?.object).toBe('list');
    expect(failed.errors?.data).toHaveLength(1);
    const [error] = failed.errors?.data ?? [];
    expect(error).toMatchObject({ code: c.code, line: c.line, param: c.param ?? null });
    expect(error?.message).toMatch(/\w/);
    expect(emu.batchLineCount()).toBe(0);
  });

  it('reports every bad line of a file, each with its line number', async () => {
    const { client } = await start();
    const failed = await pollUntilDone(client, (await createBatch(client, jsonl([ok('a'), 'nope', ok('a'), ok('c', 'gpt-4o')]))).id);
    expect(failed.errors?.data?.map((e) => [e.code, e.line])).toEqual([
      ['invalid_json_line', 2],
      ['duplicate_custom_id', 3],
      ['model_mismatch', 4],
    ]);
    expect(failed.errors?.data?.[0]?.message).toBe('This line is not parseable as valid JSON.');
  });

  it('rejects creating a batch for an unknown file, a non-batch file or another completion window with OpenAI errors', async () => {
    const { client } = await start();
    await expect(
      client.batches.create({ input_file_id: 'file-missing', endpoint: '/v1/chat/completions', completion_window: '24h' }),
    ).rejects.toBeInstanceOf(NotFoundError);
    const notBatch = await client.files.create({ file: await toFile(Buffer.from('{}'), 'notes.jsonl'), purpose: 'user_data' });
    await expect(
      client.batches.create({ input_file_id: notBatch.id, endpoint: '/v1/chat/completions', completion_window: '24h' }),
    ).rejects.toBeInstanceOf(BadRequestError);
    const input = await upload(client, jsonl([ok('a')]));
    const err: unknown = await client.batches
      .create({ input_file_id: input.id, endpoint: '/v1/chat/completions', completion_window: '48h' as '24h' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).param).toBe('completion_window');
  });
});

describe('openai emulator batch: lists and files', () => {
  it('lists batches newest first and pages them with limit and after', async () => {
    const { client } = await start();
    const text = jsonl([line('a', row(1))]);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await createBatch(client, text)).id);
    const newestFirst = [...ids].reverse();

    const page = await client.batches.list({ limit: 2 });
    expect(page.data.map((b) => b.id)).toEqual(newestFirst.slice(0, 2));
    expect(page.has_more).toBe(true);
    const next = await client.batches.list({ limit: 2, after: newestFirst[1] ?? '' });
    expect(next.data.map((b) => b.id)).toEqual(newestFirst.slice(2));
    expect(next.has_more).toBe(false);

    const all: string[] = [];
    for await (const b of client.batches.list({ limit: 1 })) all.push(b.id);
    expect(all).toEqual(newestFirst);
  });

  it('round-trips an uploaded file: retrieve, content, list and delete', async () => {
    const { emu, client } = await start();
    const text = jsonl([line('ünïcode-✓', row(1, 'Résumé: shipped “smart quotes” ✓ on time'))]);
    const file = await upload(client, text, 'rows.jsonl');
    expect(file).toMatchObject({ object: 'file', bytes: Buffer.byteLength(text), filename: 'rows.jsonl', purpose: 'batch', status: 'processed' });
    expect(file.id).toMatch(/^file-/);
    expect(await client.files.retrieve(file.id)).toEqual(file);
    expect(await (await client.files.content(file.id)).text()).toBe(text);
    expect(emu.fileText(file.id)).toBe(text);

    const second = await client.files.create({ file: await toFile(Buffer.from('hello'), 'notes.txt'), purpose: 'user_data' });
    expect((await client.files.list()).data.map((f) => f.id)).toEqual([second.id, file.id]);
    expect((await client.files.list({ purpose: 'batch' })).data.map((f) => f.id)).toEqual([file.id]);

    expect(await client.files.delete(file.id)).toEqual({ id: file.id, object: 'file', deleted: true });
    await expect(client.files.retrieve(file.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.files.content(file.id)).rejects.toBeInstanceOf(NotFoundError);
    expect(emu.files().map((f) => f.id)).toEqual([second.id]);
  });

  it('rejects a batch upload that is not .jsonl and any call with a wrong API key', async () => {
    const { emu, client } = await start();
    const err: unknown = await client.files
      .create({ file: await toFile(Buffer.from('{}\n'), 'rows.csv'), purpose: 'batch' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).param).toBe('file');

    const intruder = new OpenAI({ apiKey: 'sk-wrong-key-000000000000', baseURL: emu.url, maxRetries: 0 });
    await expect(intruder.files.list()).rejects.toBeInstanceOf(AuthenticationError);
    await expect(intruder.batches.list()).rejects.toBeInstanceOf(AuthenticationError);
    expect(emu.files()).toEqual([]);
  });

  it('forgets files, batches and batch counters on reset()', async () => {
    const { emu, client } = await start();
    const batch = await createBatch(client, jsonl([line('a', row(1))]));
    await emu.advanceBatch(batch.id, 'completed');
    expect(emu.files()).toHaveLength(2);
    expect(emu.batchLineCount()).toBe(1);
    emu.reset();
    expect(emu.files()).toEqual([]);
    expect(emu.batches()).toEqual([]);
    expect(emu.batchLineCount()).toBe(0);
    await expect(client.batches.retrieve(batch.id)).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('openai emulator batch: scale', () => {
  it('completes a batch of 50,000 lines in a few seconds with every custom_id answered', async () => {
    const { emu, client } = await start();
    const count = 50_000;
    const lines: Record<string, unknown>[] = [];
    for (let i = 0; i < count; i++) lines.push(line(`row-${i}`, row(i)));
    const startedAt = Date.now();
    const done = await pollUntilDone(client, (await createBatch(client, jsonl(lines))).id);
    const out = await download(client, done.output_file_id);
    const elapsed = Date.now() - startedAt;

    expect(done.status).toBe('completed');
    expect(done.request_counts).toEqual({ total: count, completed: count, failed: 0 });
    expect(new Set(out.map((o) => o.custom_id)).size).toBe(count);
    expect(out.every((o) => o.response?.status_code === 200)).toBe(true);
    expect(emu.batchLineCount()).toBe(count);
    expect(elapsed).toBeLessThan(15_000);
  });
});
