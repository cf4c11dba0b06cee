export { CacheStore, type CachedVerdict, type ReviewerVerdict } from './store.js';
export { cacheKey, type KeyParts } from './key.js';
export { acquireLock, recentRuns, recordRunEnd, recordRunStart, type RunRecord, type StoredRun } from './runs.js';
