export { portfolioTotal, renderPortfolio, renderPortfolioFatal, type PortfolioTotal, type TargetLine } from './portfolio.js';
export { formatUsd, renderFatal, renderOneLine, renderSummary } from './render.js';
export { progressPrinter, type ProgressStream } from './progress.js';
export { RUNS_HEADER, RUNS_IDENTITY, describeRequest, runsRow } from './runs-row.js';
