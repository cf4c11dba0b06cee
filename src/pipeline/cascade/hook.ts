import type { Config } from '../../config/index.js';
import type { Validator } from '../../llm/index.js';
import type { CascadeRun, CascadeStart } from './calibrate.js';
import { startCascade } from './calibrate.js';

/**
 * The run's hook (src/pipeline/run.ts, before its questions are asked): with llm.cascade,
 * the calibration and the validator that asks small-first; else nothing.
 */
export async function cascadeOf(
  config: Config,
  asking: { perModel?: ReadonlyMap<string, Validator> | undefined },
  run: Pick<CascadeStart, 'store' | 'dryRun' | 'now' | 'jobs' | 'labelled' | 'settle' | 'signal' | 'stop'>,
): Promise<CascadeRun | undefined> {
  const cascade = config.llm.cascade;
  const small = cascade && asking.perModel?.get(cascade.small);
  const large = cascade && asking.perModel?.get(cascade.large);
  if (!cascade || !small || !large) return undefined;
  return startCascade({ ...run, config, cascade, small, large, maxWorkers: config.llm.max_workers });
}
