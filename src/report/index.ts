export { formatUsd, renderFatal, renderOneLine, renderSummary } from './render.js';
export { progressPrinter, type ProgressStream } from './progress.js';
export { RUNS_HEADER, runsRow } from './runs-row.js';
