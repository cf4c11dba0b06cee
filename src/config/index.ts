export { loadConfig, loadPortfolio, parseConfig, parsePortfolio, selectTargets, type Config, type Portfolio } from './load.js';
export { loadSecrets, usesServiceAccount, type Secrets } from './preflight.js';
export { durationMs, PROVIDER_KINDS, type ProviderConfig, type ProviderKind } from './schema.js';
export { closest } from './problems.js';
export { cacheLocation, cacheUrlSecrets, displayCacheUrl } from './cache-url.js';
