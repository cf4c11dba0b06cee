export { runValidation, type Progress, type RunOptions } from './run.js';
export type { ModelUsage, RunStatus, RunSummary } from './summary.js';
