export { loadConfig, parseConfig, type Config } from './load.js';
export { loadSecrets, type Secrets } from './preflight.js';
export { durationMs, type ProviderConfig } from './schema.js';
