import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { binomialTail, boundAt, chooseThreshold, clopperPearsonLower } from '../../src/pipeline/cascade/bound.js';

describe('Clopper-Pearson lower bound', () => {
  it('matches the beta quantile B(1 − γ; k, n − k + 1) at known values (scipy.stats.beta.ppf)', () => {
    // scipy.stats.beta.ppf(0.025, 8, 3) = 0.4439045376923585: 8 of 10 at 97.5 % (the lower end of the textbook 95 % two-sided interval).
    expect(clopperPearsonLower(8, 10, 0.975)).toBeCloseTo(0.4439045376923585, 9);
    // scipy.stats.beta.ppf(0.05, 8, 3) = 0.4930986989367976
    expect(clopperPearsonLower(8, 10, 0.95)).toBeCloseTo(0.4930986989367976, 9);
    // scipy.stats.beta.ppf(0.05, 95, 6) = 0.8977466223567255
    expect(clopperPearsonLower(95, 100, 0.95)).toBeCloseTo(0.8977466223567255, 9);
    // scipy.stats.beta.ppf(0.05, 198, 3) = 0.9688574005859163
    expect(clopperPearsonLower(198, 200, 0.95)).toBeCloseTo(0.9688574005859163, 9);
    // k = n: α^(1/n); 59 agreements of 59 are the fewest that clear 0.95 at 95 %.
    expect(clopperPearsonLower(59, 59, 0.95)).toBeCloseTo(Math.pow(0.05, 1 / 59), 12);
    expect(clopperPearsonLower(58, 58, 0.95)).toBeLessThan(0.95);
    expect(clopperPearsonLower(59, 59, 0.95)).toBeGreaterThanOrEqual(0.95);
  });

  it('is the p at which k or more agreements are exactly 1 − γ likely', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0.5, max: 0.999, noNaN: true }), (n, share, confidence) => {
        const k = Math.max(1, Math.min(n - 1, Math.round(share * n)));
        if (k >= n) return;
        const bound = clopperPearsonLower(k, n, confidence);
        expect(binomialTail(k, n, bound)).toBeCloseTo(1 - confidence, 6);
      }),
    );
  });

  it('answers at once for counts no calibration has (a random 1e300 trials once hung the suite), no higher than for fewer trials at the same share', () => {
    const started = Date.now();
    const huge = clopperPearsonLower(9e299, 1e300, 0.95);
    const large = clopperPearsonLower(180_000_000, 200_000_000, 0.95);
    expect(Date.now() - started).toBeLessThan(5_000);
    for (const bound of [huge, large]) {
      expect(bound).toBeGreaterThan(0.89);
      expect(bound).toBeLessThanOrEqual(0.9);
    }
    expect(large).toBeLessThanOrEqual(clopperPearsonLower(90_000_000, 100_000_000, 0.95) + 1e-12);
  });

  it('is within [0, 1], never throws, and grows with the agreements', () => {
    const anyNumber = fc.oneof(fc.integer({ min: -10, max: 2_000 }), fc.double(), fc.constant(Number.NaN), fc.constant(Infinity));
    fc.assert(
      fc.property(anyNumber, anyNumber, anyNumber, (k, n, confidence) => {
        const bound = clopperPearsonLower(k, n, confidence);
        expect(bound).toBeGreaterThanOrEqual(0);
        expect(bound).toBeLessThanOrEqual(1);
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), fc.nat(), fc.double({ min: 0.5, max: 0.999, noNaN: true }), (n, k0, confidence) => {
        const k = k0 % n;
        expect(clopperPearsonLower(k + 1, n, confidence)).toBeGreaterThanOrEqual(clopperPearsonLower(k, n, confidence));
        // More confidence asked: a lower (never higher) bound.
        expect(clopperPearsonLower(k + 1, n, Math.min(0.9999, confidence + 0.01))).toBeLessThanOrEqual(clopperPearsonLower(k + 1, n, confidence));
      }),
    );
  });
});

describe('threshold choice', () => {
  it('takes the lowest confidence whose kept rows clear the target; none when no threshold does', () => {
    // 100 sure and right, 5 unsure and wrong: keeping the unsure ones sinks the bound
    // (keeping just the surest wrong one still clears 0.95: 100 of 101, bound 0.953; not 0.96).
    const samples = [...Array.from({ length: 100 }, (_, i) => ({ confidence: 0.9 + i / 2000, agrees: true })), ...Array.from({ length: 5 }, (_, i) => ({ confidence: 0.3 + i / 100, agrees: false }))];
    expect(chooseThreshold(samples, 0.95, 0.95).threshold).toBeCloseTo(0.34, 12);
    const choice = chooseThreshold(samples, 0.96, 0.95);
    expect(choice.threshold).toBe(0.9);
    expect(choice.kept).toBe(100);
    expect(choice.bound).toBeCloseTo(Math.pow(0.05, 1 / 100), 12);
    expect(boundAt(samples, 0.9, 0.95)).toEqual({ bound: choice.bound, kept: 100 });
    // Too few rows to be 95 % sure of 0.99: nothing is kept by the small model.
    const none = chooseThreshold(samples, 0.99, 0.95);
    expect(none.threshold).toBeNull();
    expect(none.bound).toBeGreaterThan(0.97);
    expect(chooseThreshold([], 0.95, 0.95)).toEqual({ threshold: null, bound: 0, kept: 0 });
  });

  it('never throws, and a threshold it returns meets the target on the rows it keeps', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ confidence: fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constant(Number.NaN)), agrees: fc.boolean() }), { maxLength: 300 }),
        fc.double({ min: 0.5, max: 0.999, noNaN: true }),
        (samples, target) => {
          const choice = chooseThreshold(samples, target, 0.9);
          if (choice.threshold !== null) {
            expect(boundAt(samples, choice.threshold, 0.9).bound).toBeGreaterThanOrEqual(target);
            // No lower confidence seen would have done.
            for (const s of samples) if (s.confidence < choice.threshold) expect(boundAt(samples, s.confidence, 0.9).bound).toBeLessThan(target);
          }
        },
      ),
    );
  });
});
