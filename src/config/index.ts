export { loadConfig, loadPortfolio, parseConfig, parsePortfolio, selectTargets, type Config, type Portfolio } from './load.js';
export { loadSecrets, usesServiceAccount, type Secrets } from './preflight.js';
export { durationMs, PROVIDER_KINDS, SERVICE_TIERS, type ProviderConfig, type ProviderKind, type ServiceTier } from './schema.js';
export { closest } from './problems.js';
export { cacheLocation, cacheUrlSecrets, displayCacheUrl } from './cache-url.js';
export { NOTIFY_EVENTS, NOTIFY_FORMATS, type NotifyDestination, type NotifyEvent, type NotifyFormat } from './notify.js';
