import type { CachedVerdict, Store, VerdictJournal } from '../cache/index.js';
import { redact } from '../errors.js';
import type { Judgement, Outcome } from '../llm/index.js';
import type { Entry, RowInputs } from '../sheets/index.js';
import { errorCells, verdictCells, type OutputCells } from './cells.js';
import type { Round } from './round.js';
import type { Job } from './select.js';
import type { RunEventSink } from './events.js';

export type Enqueue = (entry: Entry, cells: OutputCells, answered?: boolean) => void;

export interface SettleContext {
  store: Store;
  /** Told of each verdict committed, answer and ERROR: the run's events (RunEvents), or a Tally told directly. */
  tally: RunEventSink;
  enqueue: Enqueue;
  dryRun: boolean;
  minConfidence: number | undefined;
  secrets: readonly string[];
  now: () => Date;
  modelOf: (inputs: RowInputs) => string;
  /**
   * While open, ERROR cells are held back: a run stopped because every row gets the same
   * 400 writes nothing; the first answer (or `release`) writes them.
   */
  judge?: { readonly judgement: Judgement; onJudged(listener: (judgement: Judgement) => void): void };
  /**
   * Where an answer goes whose commit failed (the database unreachable past its patience):
   * kept on this machine for the next run to commit, never shown in the sheet (invariant 2),
   * instead of paid for again (invariant 9). Without one, the failure is thrown as before.
   */
  journal?: VerdictJournal | undefined;
  /** Told once, of the first commit that failed with a journal: the run asks nothing more. */
  onStoreDown?: (error: Error) => void;
}

interface HeldError {
  job: Job;
  round: Round;
  reason: string;
  checkedAt: string;
}

/**
 * Where an answer goes: the cache first (invariant 2), then the write queue, with the
 * run's counters told of each verdict or error. A job's near-duplicates (its round's) share it.
 */
export class Settler {
  private held: HeldError[] = [];
  private storeDown: Error | undefined;
  private journaled = 0;

  /** The commit failure that stopped the run, if one did (the answers since are in the journal). */
  get failure(): Error | undefined {
    return this.storeDown;
  }

  /** Answers paid for but not committed, kept in the journal for the next run. */
  get uncommitted(): number {
    return this.journaled;
  }

  constructor(private readonly context: SettleContext) {
    context.judge?.onJudged((judgement) => {
      // Judged the configuration's fault: the rows keep what they show, to be asked next run.
      if (judgement === 'config') this.held = [];
      else this.release();
    });
  }

  /**
   * Writes the ERROR cells held back (the run ends without a judgement: they are the rows'
   * own). Only at the run's end, never a chunk's: the judgement may come from a later chunk's
   * rows (three refused the same way), and a run stopped as misconfigured writes nothing.
   */
  release(): void {
    const held = this.held;
    this.held = [];
    for (const h of held) this.writeError(h.job, h.reason, h.checkedAt, h.round);
  }

  /** Commits a verdict for a job and its near-duplicates, then queues their cells: false when the job's own went to the journal. */
  async commit(job: Job, record: CachedVerdict, round: Round): Promise<boolean> {
    const { store, tally, enqueue, dryRun, minConfidence } = this.context;
    // A near-duplicate shares the verdict, not the rewrite (which is of another comment).
    const shared = round.sharing.followersOf(job).map(({ item, similarity }) => ({
      job: item,
      record: { ...record, key: item.key, provider: `${record.provider} (shared)`, suggestion: '', issues: [...record.issues, `Verdict shared with a ${similarity}% similar comment (dedup.fuzzy_threshold).`], promptTokens: 0, completionTokens: 0, cachedTokens: 0 },
    }));
    let committed = true;
    for (const { job: target, record: r } of [{ job, record }, ...shared]) {
      // Invariant 2: the answer is durable (the put resolved: committed) before any cell shows it.
      if (!dryRun && !(await this.put(store, r, target.entries.length))) {
        if (target === job) committed = false;
        continue;
      }
      for (const entry of target.entries) enqueue(entry, verdictCells(r, minConfidence));
      tally.emit({ type: 'committed', verdict: r.verdict, rows: target.entries.length, unsure: minConfidence !== undefined && r.confidence < minConfidence });
    }
    return committed;
  }

  /**
   * Commits one verdict: false when it could not be and went to the journal instead (then,
   * once the store failed, every later answer goes straight there without waiting again).
   */
  private async put(store: Store, record: CachedVerdict, rows: number): Promise<boolean> {
    const { journal, tally } = this.context;
    if (!journal) {
      await store.put(record);
      return true;
    }
    if (this.storeDown === undefined) {
      try {
        await store.put(record);
        return true;
      } catch (error) {
        this.storeDown = error instanceof Error ? error : new Error(String(error));
        this.context.onStoreDown?.(this.storeDown);
      }
    }
    journal.keep(record);
    this.journaled++;
    tally.emit({ type: 'deferred', rows });
    return false;
  }

  /** A model's outcome for one job: a verdict committed, or ERROR cells (never cached). */
  async settle(job: Job, outcome: Outcome, round: Round): Promise<void> {
    const { tally, secrets, now } = this.context;
    const checkedAt = now().toISOString();
    if (outcome.kind === 'verdict') {
      tally.emit({ type: 'answered', usage: outcome.usage });
      const committed = await this.commit(job, { key: job.key, ...outcome, checkedAt, promptTokens: outcome.usage.promptTokens, completionTokens: outcome.usage.completionTokens, cachedTokens: outcome.usage.cachedTokens }, round);
      if (committed) await round.remember(job);
      return;
    }
    const reason = redact(outcome.reason, secrets);
    const judgement = this.context.judge?.judgement;
    if (judgement === 'open') this.held.push({ job, round, reason, checkedAt });
    // A run stopped as misconfigured writes nothing: this row keeps what it shows.
    else if (judgement !== 'config') this.writeError(job, reason, checkedAt, round);
  }

  private writeError(job: Job, reason: string, checkedAt: string, round: Round): void {
    const { tally, enqueue, modelOf } = this.context;
    // The recheck box stays ticked: the row is asked again next time anyway.
    for (const target of [job, ...round.sharing.followersOf(job).map((f) => f.item)]) {
      for (const entry of target.entries) enqueue(entry, errorCells(reason, modelOf(target.inputs), checkedAt), false);
      tally.emit({ type: 'error', entries: target.entries, reason });
    }
  }
}
