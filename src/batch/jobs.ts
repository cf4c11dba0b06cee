import type { BatchJobStore, BatchLine as StoredBatchLine, Store } from '../cache/index.js';
import type { RowInputs } from '../sheets/index.js';

export type { BatchJob } from '../cache/index.js';

/** One question in a job; a packed line (llm.rows_per_request > 1) holds several, told apart by label. */
export type BatchLine = StoredBatchLine<RowInputs>;

/** The Batch API jobs of the store (src/cache/contract.ts), their lines holding a row's inputs. */
export type BatchJobs = BatchJobStore<RowInputs>;

export function batchJobsOf(store: Store): BatchJobs {
  return store.batchJobs<RowInputs>();
}
