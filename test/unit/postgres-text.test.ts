/**
 * The PostgreSQL store's escape of U+0000 (src/cache/postgres/text.ts): PostgreSQL's text cannot
 * hold it (https://www.postgresql.org/docs/15/datatype-character.html), so every string is
 * escaped on its way to the server and unescaped on its way back. Random text must come back
 * exactly, never reach the server holding a NUL, and ordinary text must be sent as it is.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeRows, decodeText, encodeText, encodeValues } from '../../src/cache/postgres/text.js';

// Text rich in the two characters the escape is about.
const tricky = fc.array(fc.oneof(fc.constantFrom('\u0000', '\u0001', '0', '1', 'a', '\u00e9', '\ud83d\ude80'), fc.string()), { maxLength: 20 }).map((parts) => parts.join(''));

describe('the NUL escape of the PostgreSQL store', () => {
  it('property: any text comes back exactly, and is sent without a NUL', () => {
    fc.assert(
      fc.property(fc.oneof(tricky, fc.string({ unit: 'binary' })), (text) => {
        const sent = encodeText(text);
        expect(sent).not.toContain('\u0000');
        expect(decodeText(sent)).toBe(text);
      }),
      { numRuns: 2_000 },
    );
  });

  it('property: text holding neither U+0000 nor U+0001 is sent unchanged (keys, times and JSON texts)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }).filter((t) => !t.includes('\u0000') && !t.includes('\u0001')), (text) => {
        expect(encodeText(text)).toBe(text);
        expect(decodeText(text)).toBe(text);
      }),
    );
    expect(encodeText(JSON.stringify(['a\u0000b\u0001']))).toBe(JSON.stringify(['a\u0000b\u0001']));
  });

  it('escapes strings and arrays of strings among the parameters, and unescapes the string fields of rows', () => {
    const buffer = Buffer.from([0, 1]);
    expect(encodeValues(['x\u0000', 3, null, ['\u0000', 4], buffer])).toEqual(['x\u00010', 3, null, ['\u00010', 4], buffer]);
    expect(decodeRows([{ a: 'x\u00010\u00011', b: 2, c: null }])).toEqual([{ a: 'x\u0000\u0001', b: 2, c: null }]);
  });
});
