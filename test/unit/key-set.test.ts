import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeySet } from '../../src/pipeline/key-set.js';

describe('KeySet', () => {
  it('holds exactly the keys added, however many and in whatever order, as a Set would', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 70 }), { maxLength: 3000 }), fc.array(fc.string({ maxLength: 70 }), { maxLength: 200 }), (added, probes) => {
        const keys = new KeySet();
        const set = new Set<string>();
        for (const key of added) {
          keys.add(key);
          set.add(key);
        }
        expect(keys.size).toBe(set.size);
        for (const key of [...added, ...probes]) expect(keys.has(key)).toBe(set.has(key));
      }),
      { numRuns: 50 },
    );
  });

  it('keeps 200,000 cache keys in a few megabytes and finds each', () => {
    const keys = new KeySet();
    const key = (i: number) => i.toString(16).padStart(64, '0');
    for (let i = 0; i < 200_000; i++) keys.add(key(i));
    expect(keys.size).toBe(200_000);
    for (let i = 0; i < 200_000; i += 997) expect(keys.has(key(i))).toBe(true);
    expect(keys.has(key(200_001))).toBe(false);
  });
});
