export { formatUsd, renderSummary } from './render.js';
export { progressPrinter, type ProgressStream } from './progress.js';
