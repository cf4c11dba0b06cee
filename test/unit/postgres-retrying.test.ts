import { describe, expect, it } from 'vitest';
import { retrying } from '../../src/cache/postgres/faults.js';

const refused = (): Promise<never> => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));

describe('retrying a connection fault', () => {
  it('gives up only once the whole patience has passed (never at a random point short of it), and says how long it waited', async () => {
    // The backoff's jitter once made a 1.5 s patience give up after 0.7 s, whose message then
    // said "is still unreachable" instead of how long it had waited (a CI run caught it).
    for (let i = 0; i < 5; i++) {
      const started = Date.now();
      let attempts = 0;
      const error = await retrying(
        () => {
          attempts++;
          return refused();
        },
        600,
        (_error, waited) => new Error(`waited ${waited}`),
      ).catch((e: unknown) => e as Error);
      const waited = Number(/waited (\d+)/.exec(error.message)?.[1]);
      expect(waited).toBeGreaterThanOrEqual(600);
      expect(Date.now() - started).toBeLessThan(1_200);
      expect(attempts).toBeGreaterThan(2);
    }
  });

  it('with no patience, tries once; a fault of another kind is not retried', async () => {
    let attempts = 0;
    await expect(retrying(() => (attempts++, refused()), 0, () => new Error('gave up'))).rejects.toThrow('gave up');
    expect(attempts).toBe(1);
    attempts = 0;
    const syntax = Object.assign(new Error('syntax error'), { code: '42601' });
    await expect(retrying(() => (attempts++, Promise.reject(syntax)), 5_000, () => new Error('gave up'))).rejects.toBe(syntax);
    expect(attempts).toBe(1);
  });
});
