/** Text cut for the sheet's Issues cells (reasons, refusals, batch errors): within the limit, ending in "…". */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clipText } from '../../src/llm/index.js';

describe('clipText', () => {
  it('keeps a text that fits, and ends a cut one with "…" within the limit', () => {
    expect(clipText('short', 10)).toBe('short');
    expect(clipText('x'.repeat(600), 500)).toBe(`${'x'.repeat(499)}…`);
    expect(clipText('ab😀cd', 4)).toBe('ab…');
  });

  it('never exceeds the limit, never splits a character, and a cut always ends in "…"', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-composite', maxLength: 300 }), fc.integer({ min: 1, max: 300 }), (text, max) => {
        const out = clipText(text, max);
        expect(out.length).toBeLessThanOrEqual(max);
        if (out === text) return;
        expect(out.endsWith('…')).toBe(true);
        expect(text.startsWith(out.slice(0, -1))).toBe(true);
        expect(/[\uD800-\uDBFF]$/.test(out.slice(0, -1))).toBe(false);
      }),
    );
  });
});
