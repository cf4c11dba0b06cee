export { CacheStore, type CachedVerdict, type ReviewerVerdict } from './store.js';
export { cacheKey, type KeyParts } from './key.js';
export { acquireLock, HEARTBEAT_MS, STALE_AFTER_MS, type AcquiredLock } from './lock.js';
export { recentRuns, recordRunEnd, recordRunRequest, recordRunStart, type RunRecord, type RunRequest, type StoredRun } from './runs.js';
