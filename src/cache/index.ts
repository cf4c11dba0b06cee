export { CacheStore, type CachedVerdict, type ReviewerVerdict } from './store.js';
export { cacheKey, type KeyParts } from './key.js';
export { acquireLock, lockHolder, HEARTBEAT_MS, STALE_AFTER_MS, type AcquiredLock } from './lock.js';
export { LimitMemory, LIMITS_MAX_AGE_MS, keyHash, type KnownLimits, type LimitsOf } from './limits.js';
export { recentRuns, recordRunEnd, recordRunRequest, recordRunStart, type RunRecord, type RunRequest, type StoredRun } from './runs.js';
export { FieldMemory, FIELDS_MAX_AGE_MS, type FieldsOf } from './fields.js';
export { BatchJobs, answeredBatchQuestions, pendingQuestions, type BatchJob, type BatchLine, type PendingBatch } from './batch-jobs.js';
export { EmbeddingStore, type EmbeddingPartition, type StoredEmbedding } from './embeddings.js';
