/** What a run with llm.cascade says of it (summary, --json, `runs`, the Runs tab). */
export interface CascadeReport {
  small: string;
  large: string;
  targetAgreement: number;
  confidence: number;
  /** The small model's verdict is kept at this confidence or above; null: every row went to the large model. */
  threshold: number | null;
  /** The lower bound on agreement with the labels among the calibration rows the threshold keeps. */
  bound: number;
  /** Rows the calibration rests on (asked of both models, or labelled by a reviewer), this run's and earlier ones'. */
  calibrationRows: number;
  /** Rows asked of both models in this run to calibrate. */
  calibratedNow: number;
  /** Calibration rows labelled by a reviewer's verdict rather than the large model's. */
  reviewerLabels: number;
  /** Rows whose small-model verdict was kept. */
  kept: number;
  /** Rows sent on to the large model (its confidence below the threshold, or its answer unusable). */
  escalated: number;
  /** What this run's questions cost through the cascade, calibration included; null when a model has no known price. */
  costUsd: number | null;
  /** What the same rows would have cost asked of the large model alone (the small model's tokens at the large model's price where it was not asked). */
  largeOnlyCostUsd: number | null;
  /** Why the threshold is what it is, in a sentence. */
  note: string;
}

/** The cost of the cascade over large-only, e.g. "0.36× large-only"; '' when unknown. */
export function cascadeCostRatio(report: Pick<CascadeReport, 'costUsd' | 'largeOnlyCostUsd'>): string {
  if (report.costUsd === null || report.largeOnlyCostUsd === null || report.largeOnlyCostUsd <= 0) return '';
  return `${(report.costUsd / report.largeOnlyCostUsd).toFixed(2)}× large-only`;
}
