import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clip } from '../../scripts/text.js';
import { plural } from '../../src/plural.js';

describe('clip (the demo\'s table cells)', () => {
  it('keeps a short text, and ends a cut one with "…" within the limit', () => {
    expect(clip('VALID', 12)).toBe('VALID');
    expect(clip('The status "Blocked" is not allowed', 12)).toBe('The status …');
    expect(clip('The status "Blocked" is not allowed', 12)).toHaveLength(12);
  });

  it('never exceeds the limit in characters, and a cut always ends in "…"', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 80 }), fc.integer({ min: 1, max: 70 }), (text, max) => {
        const out = clip(text, max);
        expect(Array.from(out).length).toBeLessThanOrEqual(max);
        if (out !== text) expect(out.endsWith('…')).toBe(true);
      }),
    );
  });
});

describe('plural', () => {
  it('agrees the noun with the count', () => {
    expect(plural(1, 'call')).toBe('1 call');
    expect(plural(0, 'call')).toBe('0 calls');
    expect(plural(1200, 'row')).toBe('1,200 rows');
    expect(plural(1, 'line of rules', 'lines of rules')).toBe('1 line of rules');
    expect(plural(2, 'line of rules', 'lines of rules')).toBe('2 lines of rules');
  });
});
