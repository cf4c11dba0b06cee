export { Metrics, type RunEnd } from './registry.js';
export { sendMetrics, startMetricsServer } from './http.js';
