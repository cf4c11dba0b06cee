export { formatUsd, renderFatal, renderOneLine, renderSummary } from './render.js';
export { progressPrinter, type ProgressStream } from './progress.js';
export { RUNS_HEADER, describeRequest, runsRow } from './runs-row.js';
