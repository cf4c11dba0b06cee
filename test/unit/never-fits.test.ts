import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { neverFits } from '../../src/llm/provider.js';

describe('neverFits (which 429s no wait can cure)', () => {
  it('reads any text without throwing', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        expect(typeof neverFits(text)).toBe('boolean');
      }),
      { numRuns: 10_000 },
    );
  });

  it("knows OpenAI's request-too-large message whatever the model and figures", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9.-]{1,30}$/), fc.nat(), fc.nat(), (model, limit, requested) => {
        expect(neverFits(`Request too large for ${model} in organization org-x on tokens per min (TPM): Limit ${limit}, Requested ${requested}. The input or output tokens must be reduced in order to run successfully.`)).toBe(true);
      }),
    );
  });

  it('counts a limit report as never fitting only when the request alone is over the whole limit and nothing is "Used"', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.nat(), (limit, used, requested) => {
        expect(neverFits(`Rate limit reached for m on tokens per min (TPM): Limit ${limit}, Used ${used}, Requested ${requested}. Please try again in 1s.`)).toBe(false);
        expect(neverFits(`Rate limit reached for m on tokens per day (TPD): Limit ${limit}, Requested ${requested}.`)).toBe(requested > limit);
      }),
    );
  });

  it('leaves ordinary rate limits and quota messages alone', () => {
    expect(neverFits('Rate limit reached for requests (emulated fault). Please try again later.')).toBe(false);
    expect(neverFits('You exceeded your current quota, please check your plan and billing details.')).toBe(false);
  });
});
