export { runValidation, type Progress, type RunOptions } from './run.js';
export { runPortfolio, type PortfolioOptions, type PortfolioRun, type TargetOptions, type TargetOutcome } from './portfolio.js';
export { providerGates } from './ask.js';
export { sheetsClientFor, surveyTab } from './sheet-io.js';
export { hasWork, keyerOf, layoutConfigOf, localDate, lookupIn, primaryModel, promptRulesOf, snapshotOf, staleAfterOf } from './plan.js';
export { selectWork, type Selection } from './select.js';
export type { ModelUsage, RunStatus, RunSummary, SheetCounts } from './summary.js';
export { primaryProvider } from './ask.js';
export { holdLock, lockNameOf, LockLostError, type Every, type HeldLock } from './run-lock.js';
