import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readJson } from '../../src/server/http.js';

/** A request body as the HTTP server hands it over: a stream of the chunks the client sent. */
const bodyOf = (chunks: readonly Uint8Array[]) => Readable.from(chunks.map((c) => Buffer.from(c))) as unknown as IncomingMessage;

describe('the POST /runs body reader', () => {
  it('reads an empty body as {} and an object as itself', async () => {
    expect(await readJson(bodyOf([]), 1000)).toEqual({ ok: true, value: {} });
    expect(await readJson(bodyOf([Buffer.from('{"force":'), Buffer.from(' true, "rows": ["P-1"]}')]), 1000)).toEqual({ ok: true, value: { force: true, rows: ['P-1'] } });
  });

  it('refuses JSON that is not an object, and bodies over 10 kB, with the status to answer', async () => {
    expect(await readJson(bodyOf([Buffer.from('null')]), 1000)).toMatchObject({ ok: false, status: 400 });
    expect(await readJson(bodyOf([Buffer.from('[1]')]), 1000)).toMatchObject({ ok: false, status: 400 });
    expect(await readJson(bodyOf([Buffer.alloc(10_001, 32)]), 1000)).toMatchObject({ ok: false, status: 413 });
  });

  it('takes a larger cap when the caller allows one (serve.max_rows ids), and still refuses past it', async () => {
    expect(await readJson(bodyOf([Buffer.alloc(15_000, 32)]), 1000, 20_000)).toEqual({ ok: true, value: {} });
    const over = await readJson(bodyOf([Buffer.alloc(12_000, 32), Buffer.alloc(12_000, 32)]), 1000, 20_000);
    expect(over).toEqual({ ok: false, status: 413, error: 'the body must be at most 20000 bytes' });
  });

  it('answers 408 without destroying the request, so that the answer can still be sent', async () => {
    const stalled = new Readable({ read() {} }) as unknown as IncomingMessage;
    stalled.push('{"force"');
    expect(await readJson(stalled, 50)).toMatchObject({ ok: false, status: 408 });
    expect((stalled as unknown as Readable).destroyed).toBe(false);
  });

  it('answers 408 instead of waiting for ever for a body that stops arriving', async () => {
    const stalled = new Readable({ read() {} }) as unknown as IncomingMessage;
    stalled.push('{"force"');
    expect(await readJson(stalled, 50)).toMatchObject({ ok: false, status: 408 });
  });

  it('never throws, whatever bytes arrive in whatever chunks, and accepts exactly the JSON objects', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.jsonValue().map((v) => new TextEncoder().encode(JSON.stringify(v) ?? ''))), fc.integer({ min: 1, max: 50 }), async (bytes, size) => {
        const chunks: Uint8Array[] = [];
        for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.slice(at, at + size));
        const read = await readJson(bodyOf(chunks), 1000);
        const text = Buffer.from(bytes).toString('utf8');
        let parsed: unknown;
        try {
          parsed = text.trim() === '' ? {} : JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        const isObject = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
        expect(read.ok).toBe(isObject);
        if (!read.ok) expect(read.status).toBe(400);
      }),
      { numRuns: 2000 },
    );
  });
});
