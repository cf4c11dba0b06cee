import { pushTo } from '../collections.js';
import type { Job } from './select.js';
import type { RunEventSink } from './events.js';

export interface Follower {
  item: Job;
  similarity: number;
}

export interface Sharing {
  /** The jobs to ask: all of them, or one per group of near-duplicates. */
  leaders: Job[];
  /** The jobs that take a leader's verdict instead of being asked. */
  followersOf: (job: Job) => readonly Follower[];
}

const NO_FOLLOWERS: readonly Follower[] = Object.freeze([]);

/**
 * dedup.fuzzy_threshold: near-duplicate questions share one answer. When it is off,
 * nothing is allocated per job (a 100,000-row first run holds no map of empty lists).
 */
export async function shareNearDuplicates(threshold: number | undefined, jobs: Job[], events: RunEventSink): Promise<Sharing> {
  if (threshold === undefined) return { leaders: jobs, followersOf: () => NO_FOLLOWERS };
  // Loaded only when dedup.fuzzy_threshold is set (off by default): fuzzball's module alone
  // was ~5 ms of every run's start (issue 25, bench B1).
  const { groupNearDuplicates } = await import('../dedup/index.js');
  // A job chosen to be asked again (a ticked box, --force, an old verdict) must get a fresh
  // answer, whether it would lead its group or follow: one following a new row would take
  // whatever that row gets, a stored neighbour's verdict included (cache.semantic, or the
  // cache via the portfolio's board), and be unticked unasked. So such jobs are grouped
  // first: a group holding one is led by one, and a leader asked again is asked (the
  // semantic pass and the board skip it); its followers share that fresh answer. The groups
  // keep the jobs' order otherwise.
  const position = new Map(jobs.map((job, i) => [job, i] as const));
  const again = jobs.filter((job) => job.again);
  const ordered = again.length === 0 ? jobs : [...again, ...jobs.filter((job) => !job.again)];
  const { groups, truncated } = groupNearDuplicates(ordered, (job) => job.inputs, { threshold });
  if (again.length > 0) groups.sort((x, y) => (position.get(x.leader) ?? 0) - (position.get(y.leader) ?? 0));
  const shared = groups.reduce((n, g) => n + g.followers.reduce((m, f) => m + f.item.entries.length, 0), 0);
  events.emit({ type: 'fuzzy-shared', rows: shared });
  if (truncated) events.emit({ type: 'warning', text: 'too many questions to compare them all for near-duplicates; the rest were asked as usual' });
  const followers = new Map(groups.filter((g) => g.followers.length > 0).map((g) => [g.leader, g.followers]));
  return { leaders: groups.map((g) => g.leader), followersOf: (job) => followers.get(job) ?? NO_FOLLOWERS };
}

/** The rows a job's answer goes to: its own and its followers'. */
export function rowsAnswered(jobs: readonly Job[], sharing: Sharing): number {
  return jobs.reduce((n, job) => n + job.entries.length + sharing.followersOf(job).reduce((m, f) => m + f.item.entries.length, 0), 0);
}

/** Jobs by the model they are asked with: a packed request holds rows of one route only. */
export function byModel(jobs: readonly Job[], modelOf: (job: Job) => string): Map<string, Job[]> {
  const out = new Map<string, Job[]>();
  for (const job of jobs) pushTo(out, modelOf(job), job);
  return out;
}

/**
 * The requests of a run (llm.rows_per_request jobs of one model each), made one at a
 * time as workers ask for the next, not all up front.
 */
export function requestsOf(groups: ReadonlyMap<string, readonly Job[]>, size: number): { count: number; requests: Iterator<Job[]> } {
  let count = 0;
  for (const jobs of groups.values()) count += Math.ceil(jobs.length / size);
  function* make(): Generator<Job[]> {
    for (const jobs of groups.values()) for (let i = 0; i < jobs.length; i += size) yield jobs.slice(i, i + size);
  }
  return { count, requests: make() };
}
