export { CacheStore, type CachedVerdict } from './store.js';
export { cacheKey, type KeyParts } from './key.js';
export { acquireLock, recordRunEnd, recordRunStart, type RunRecord } from './runs.js';
