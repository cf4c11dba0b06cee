import type { Store } from '../../cache/index.js';
import type { Config } from '../../config/index.js';
import { storedCalibration } from './calibrate.js';
import type { CascadeEstimate } from '../../estimate/index.js';
import type { CascadeConfig } from './scope.js';

export type { CascadeEstimate };

/**
 * Prices the cascade from each model's cost for the run's questions: every question asked of
 * the small model; the calibration rows and the escalated share of the rest of the large one too.
 */
export async function estimateCascade(store: Store, config: Config, cascade: CascadeConfig, questions: number, cost: { small: number | null; large: number | null }): Promise<CascadeEstimate> {
  const stored = await storedCalibration(store, config, cascade);
  const calibrationRows = Math.min(questions, Math.max(0, cascade.label_budget - (stored?.rows ?? 0)));
  const rest = questions - calibrationRows;
  const perRow = (usd: number | null) => (usd === null || questions === 0 ? null : usd / questions);
  const small = perRow(cost.small);
  const large = perRow(cost.large);
  const at = (share: number) => (small === null || large === null ? null : questions === 0 ? 0 : small * questions + large * (calibrationRows + share * rest));
  if (stored && stored.rows >= cascade.label_budget) {
    return {
      smallOnlyUsd: cost.small,
      largeOnlyUsd: cost.large,
      cascadeUsd: at(stored.escalated),
      cascadeRange: null,
      calibrationRows,
      escalationShare: stored.escalated,
      note:
        stored.threshold === null
          ? `the calibration found no threshold meeting the target: every row goes to ${cascade.large} (after ${cascade.small}, asked for its calibration)`
          : `calibrated on ${stored.rows} rows: ${Math.round(stored.escalated * 100)}% of them fall below the threshold ${stored.threshold.toFixed(3)} and go on to ${cascade.large}`,
    };
  }
  const low = at(0);
  const high = at(1);
  return {
    smallOnlyUsd: cost.small,
    largeOnlyUsd: cost.large,
    cascadeUsd: null,
    cascadeRange: low === null || high === null ? null : { low, high },
    calibrationRows,
    escalationShare: null,
    note: `not calibrated yet: ${calibrationRows} rows would be asked of both models first; what the rest costs depends on how many ${cascade.small} is sure of`,
  };
}
