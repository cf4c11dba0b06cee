/**
 * The statistics of a calibrated cascade (issue 24): a one-sided lower confidence bound on
 * the agreement between the small and the large model, and the threshold it allows.
 *
 * Clopper-Pearson (C. J. Clopper and E. S. Pearson, "The use of confidence or fiducial limits
 * illustrated in the case of the binomial", Biometrika 26(4), 1934, 404-413): with k agreements
 * among n rows, the one-sided lower bound at confidence γ is the p solving
 *
 *   P(X ≥ k | X ~ Binomial(n, p)) = 1 − γ,
 *
 * which is the beta quantile B(1 − γ; k, n − k + 1), and 0 when k = 0 (see "Binomial proportion
 * confidence interval", Clopper–Pearson interval, https://en.wikipedia.org/wiki/Binomial_proportion_confidence_interval#Clopper%E2%80%93Pearson_interval).
 * For whole k and n the beta quantile needs no incomplete beta function: by the identity
 * I_p(k, n − k + 1) = P(X ≥ k), the binomial tail is summed exactly (in logs) and, as it grows
 * with p, the bound is found by bisection. It is conservative: the true agreement is at least
 * the bound with probability ≥ γ, whatever the agreement is.
 */

/** More trials than a calibration ever has (its rows are asked of both models). */
export const MAX_TRIALS = 100_000;

/** P(X ≥ k) for X ~ Binomial(n, p), summed in logs (no overflow for n in the millions). */
export function binomialTail(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  const logP = Math.log(p);
  const logQ = Math.log1p(-p);
  // log C(n, k), then each next term's ratio: C(n, j+1)/C(n, j) = (n − j)/(j + 1).
  let logC = 0;
  for (let j = 0; j < k; j++) logC += Math.log(n - j) - Math.log(j + 1);
  let sum = 0;
  let max = -Infinity;
  const logs: number[] = [];
  for (let j = k; j <= n; j++) {
    const term = logC + j * logP + (n - j) * logQ;
    logs.push(term);
    if (term > max) max = term;
    logC += Math.log(n - j) - Math.log(j + 1);
  }
  for (const term of logs) sum += Math.exp(term - max);
  return Math.min(1, Math.exp(max + Math.log(sum)));
}

/**
 * The one-sided Clopper-Pearson lower bound on a proportion: `successes` of `trials`, at
 * `confidence` (0.5 ≤ γ < 1). 0 when there is nothing to go on (no trials, no successes).
 * Never throws: out-of-range counts are clamped, a NaN confidence counts as nothing known.
 */
export function clopperPearsonLower(successes: number, trials: number, confidence: number): number {
  const counted = Number.isFinite(trials) ? Math.max(0, Math.floor(trials)) : 0;
  const agreed = Number.isFinite(successes) ? Math.min(counted, Math.max(0, Math.floor(successes))) : 0;
  // The tail is summed term by term (n of them, 60 times): counts past MAX_TRIALS are scaled
  // down to it, which only widens the interval (fewer trials, no higher a share: a lower bound
  // still), instead of a loop of 1e300 steps hanging the run (a random input found it).
  const scale = counted > MAX_TRIALS ? MAX_TRIALS / counted : 1;
  const n = Math.floor(counted * scale);
  const k = Math.floor(agreed * scale);
  if (n === 0 || k === 0 || !(confidence > 0 && confidence < 1)) return 0;
  const alpha = 1 - confidence;
  // k = n has a closed form: P(X ≥ n) = p^n = α.
  if (k === n) return Math.pow(alpha, 1 / n);
  let lo = 0;
  let hi = 1;
  // 60 halvings: finer than a double's resolution near any bound that matters.
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (binomialTail(k, n, mid) < alpha) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** One calibration row: the small model's confidence, and whether its verdict agreed with the label. */
export interface CalibrationSample {
  confidence: number;
  agrees: boolean;
}

export interface ThresholdChoice {
  /** The lowest confidence at which the small model's verdict is kept; null: none meets the target (all rows to the large model). */
  threshold: number | null;
  /** The agreement bound among the calibration rows kept at that threshold (the best bound seen when none meets the target). */
  bound: number;
  /** Calibration rows the small model keeps at that threshold. */
  kept: number;
}

/**
 * The lowest threshold on the small model's confidence whose lower bound on agreement, among
 * the calibration rows it keeps (confidence ≥ threshold), is at least `target` at `confidence`.
 * Candidates are the confidences seen: a threshold between two of them keeps the same rows.
 */
export function chooseThreshold(samples: readonly CalibrationSample[], target: number, confidence: number): ThresholdChoice {
  const sorted = samples.filter((s) => Number.isFinite(s.confidence)).sort((a, b) => a.confidence - b.confidence);
  let agreeAbove = sorted.reduce((n, s) => n + (s.agrees ? 1 : 0), 0);
  let best: ThresholdChoice = { threshold: null, bound: 0, kept: 0 };
  for (let i = 0; i < sorted.length; ) {
    const at = sorted[i]?.confidence ?? 0;
    const kept = sorted.length - i;
    const bound = clopperPearsonLower(agreeAbove, kept, confidence);
    if (bound >= target) return { threshold: at, bound, kept };
    if (bound > best.bound) best = { threshold: null, bound, kept: 0 };
    // Every row at this confidence leaves together.
    while (i < sorted.length && sorted[i]?.confidence === at) {
      if (sorted[i]?.agrees) agreeAbove--;
      i++;
    }
  }
  return best;
}

/** The bound among the samples a given threshold keeps (a stored calibration checked against new labels). */
export function boundAt(samples: readonly CalibrationSample[], threshold: number, confidence: number): { bound: number; kept: number } {
  const kept = samples.filter((s) => s.confidence >= threshold);
  return { bound: clopperPearsonLower(kept.filter((s) => s.agrees).length, kept.length, confidence), kept: kept.length };
}
