export { binomialTail, boundAt, chooseThreshold, clopperPearsonLower, type CalibrationSample, type ThresholdChoice } from './bound.js';
export { CascadeValidator, type Asker } from './cascade.js';
export { startCascade, storedCalibration, type CascadeRun, type CascadeStart, type Labelled } from './calibrate.js';
export { cascadeCostRatio, type CascadeReport } from './report.js';
export { calibrationScope, cascadeModelName, drawSample, modelKeyer, seededRandom } from './scope.js';
export { cascadeOf } from './hook.js';
export { estimateCascade, type CascadeEstimate } from './estimate.js';
