import type { Sharing } from './requests.js';
import type { Job } from './select.js';

/**
 * One chunk's questions being answered: what its answers are shared with (the chunk's
 * near-duplicates), what learns from them (the chunk's semantic pass), and its answers
 * still being committed. The chunks of a streamed read overlap (the next one is asked as
 * this one's last answers arrive: WorkerPool), so this travels with each request rather
 * than being the run's.
 */
export interface Round {
  readonly sharing: Sharing;
  /** Told of each answered job once its verdict is committed (cache.semantic learns from it). */
  remember(job: Job): Promise<void>;
  /** This round's answers received and being committed (then queued for the sheet). */
  readonly settling: Set<Promise<void>>;
}

const NOTHING_SHARED: Sharing = { leaders: [], followersOf: () => [] };

export function roundOf(sharing: Sharing = NOTHING_SHARED, remember: (job: Job) => Promise<void> = () => Promise.resolve()): Round {
  return { sharing, remember, settling: new Set() };
}
