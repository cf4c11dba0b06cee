export { CacheStore, type CachedVerdict, type ReviewerVerdict } from './store.js';
export { cacheKey, type KeyParts } from './key.js';
export { acquireLock, recentRuns, recordRunEnd, recordRunStart, type RunRecord, type StoredRun } from './runs.js';
export { LimitMemory, LIMITS_MAX_AGE_MS, keyHash, type KnownLimits, type LimitsOf } from './limits.js';
