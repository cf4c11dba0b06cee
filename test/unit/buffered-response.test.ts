/**
 * jsonFetch hands the openai SDK a BufferedResponse instead of `new Response(bytes)`: for
 * any status, headers and body, what a reader can observe must be what a fetch Response
 * gives (the SDK parses errors and answers through it, the provider wrappers re-wrap it).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BufferedResponse } from '../../src/llm/buffered-response.js';

const NULL_BODY = new Set([204, 205, 304]);

type Read = 'text' | 'json' | 'arrayBuffer' | 'blob' | 'body';

/** What one read of a response gives: its value, or the class of the error it throws. */
async function observe(response: Response, read: Read): Promise<unknown> {
  try {
    if (read === 'text') return { text: await response.text() };
    if (read === 'json') return { json: await response.json() };
    if (read === 'arrayBuffer') return { bytes: [...new Uint8Array(await response.arrayBuffer())] };
    if (read === 'blob') {
      const blob = await response.blob();
      return { blob: [...new Uint8Array(await blob.arrayBuffer())], type: blob.type };
    }
    const body = response.body;
    return { body: body === null ? null : [...new Uint8Array(await new Response(body).arrayBuffer())] };
  } catch (error) {
    return { threw: (error as Error).constructor.name };
  }
}

const bodies = fc.oneof(
  fc.json().map((text) => new TextEncoder().encode(text)),
  fc.string({ unit: 'grapheme' }).map((text) => new TextEncoder().encode(text)),
  fc.uint8Array({ maxLength: 64 }),
  // A byte-order mark before JSON: fetch's text() and json() drop it.
  fc.json().map((text) => new TextEncoder().encode(`\uFEFF${text}`)),
);
const headerName = fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/);
const headerValue = fc.stringMatching(/^[\x21-\x7e]{0,20}$/);
const reads = fc.array(fc.constantFrom<Read>('text', 'json', 'arrayBuffer', 'blob', 'body'), { minLength: 1, maxLength: 3 });

describe('BufferedResponse', () => {
  it('reads as a fetch Response does: status, ok, headers, each kind of read, a second read refused', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 200, max: 599 }), fc.dictionary(headerName, headerValue, { maxKeys: 6 }), bodies, reads, async (status, headerMap, bytes, order) => {
        const body = NULL_BODY.has(status) ? null : bytes;
        const real = new Response(body, { status, headers: headerMap });
        const ours = BufferedResponse.of(body, status, new Headers(headerMap), 'http://127.0.0.1/v1/chat/completions');
        expect({ status: ours.status, ok: ours.ok, headers: [...ours.headers] }).toEqual({ status: real.status, ok: real.ok, headers: [...real.headers] });
        for (const read of order) expect(await observe(ours, read)).toEqual(await observe(real, read));
        expect(ours.bodyUsed).toBe(real.bodyUsed);
      }),
      { numRuns: 300 },
    );
  });

  it('clones an unread answer (each clone read once), and refuses to clone a read one', async () => {
    const ours = BufferedResponse.of(new TextEncoder().encode('{"a":1}'), 200, new Headers({ 'content-type': 'application/json' }), 'http://x/');
    const copy = ours.clone();
    expect(await copy.json()).toEqual({ a: 1 });
    expect(await ours.text()).toBe('{"a":1}');
    expect(() => ours.clone()).toThrow(TypeError);
    await expect(ours.json()).rejects.toThrow(TypeError);
  });

  it('answers a body that is not JSON with the SyntaxError JSON.parse throws (the SDK reads an error body as text then)', async () => {
    const ours = BufferedResponse.of(new TextEncoder().encode('<html>bad gateway</html>'), 502, new Headers(), 'http://x/');
    await expect(ours.json()).rejects.toThrow(SyntaxError);
  });
});
