import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { grouped, plural } from '../../src/plural.js';

describe('grouped: numbers as en-US writes them, without loading ICU for whole ones', () => {
  it('writes the usual counts', () => {
    expect([0, 7, 999, 1000, 12_345, -1_200, 1_000_000, Number.MAX_SAFE_INTEGER].map(grouped)).toEqual(['0', '7', '999', '1,000', '12,345', '-1,200', '1,000,000', '9,007,199,254,740,991']);
    expect(grouped(-0)).toBe((-0).toLocaleString('en-US'));
    expect(plural(1200, 'row')).toBe('1,200 rows');
    expect(plural(1, 'row')).toBe('1 row');
  });

  it('property: any number is written as toLocaleString("en-US") writes it (whole or not, NaN, infinities)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), fc.double(), fc.integer()), (value) => {
        expect(grouped(value)).toBe(value.toLocaleString('en-US'));
      }),
      { numRuns: 2000 },
    );
  });
});
