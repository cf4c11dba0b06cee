import { BatchJobs as StoredBatchJobs, type BatchLine as StoredBatchLine } from '../cache/index.js';
import type { RowInputs } from '../sheets/index.js';

export type { BatchJob } from '../cache/index.js';

/** One question in a job; a packed line (llm.rows_per_request > 1) holds several, told apart by label. */
export type BatchLine = StoredBatchLine<RowInputs>;

/** The Batch API jobs of this cache (storage in src/cache/batch-jobs.ts), their lines holding a row's inputs. */
export class BatchJobs extends StoredBatchJobs<RowInputs> {}
