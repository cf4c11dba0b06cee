export { portfolioTotal, renderPortfolio, renderPortfolioFatal, type PortfolioTotal, type TargetLine } from './portfolio.js';
export { formatUsd, renderFatal, renderOneLine, renderSummary } from './render.js';
export { LOG_EVERY_MS, ProgressView, type ProgressStream, type ProgressViewOptions } from './progress.js';
export { duration, figuresOf, progressLine, type Figures } from './progress-figures.js';
// The Runs tab's row is written by a run (pipeline/sheet-io.ts) and by serve: it lives with the run.
export { RUNS_HEADER, RUNS_IDENTITY, describeRequest, runsRow } from '../pipeline/index.js';
export { describeAnswers, describeSheet, plural } from './words.js';
