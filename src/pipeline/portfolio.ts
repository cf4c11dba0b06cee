import { randomUUID } from 'node:crypto';
import { openStore } from '../cache/index.js';
import type { Config, Secrets } from '../config/index.js';
import { LockedError, StatusValidatorError, redact } from '../errors.js';
import type { ProviderGate } from '../llm/index.js';
import { providerGates } from './ask.js';
import { QuestionBoard } from './board.js';
import { runValidation, type Progress, type RunOptions } from './run.js';
import type { RunSummary } from './summary.js';
import { Tally } from './tally.js';

/** What may differ between the targets of one portfolio run (watch and serve know each target's tab, client and id; serve holds its lock). */
export type TargetOptions = Pick<RunOptions, 'runId' | 'preread' | 'sheets' | 'onProgress' | 'heldLock' | 'onEvent'>;

export type PortfolioOptions = Omit<RunOptions, 'runId' | 'preread' | 'sheets' | 'group' | 'heldLock'> & {
  /** Per-target options: the tab a caller has just read, its client, its run id, its own progress. */
  each?: (config: Config, index: number) => TargetOptions;
};

/** How one target's run ended: its summary, and whether it ran at all (a held lock: it did not). */
export interface TargetOutcome {
  summary: RunSummary;
  /** Another run held this target's lock: nothing was done here (exit 4 for it). */
  locked: boolean;
}

export interface PortfolioRun {
  /** The id every target's run carries as its `group`. */
  group: string;
  targets: TargetOutcome[];
}

/**
 * One run over several targets, all at once. What limits hold for the whole process is
 * shared: one pacing gate per provider (so the targets' requests together stay within
 * its limits) and the process's Sheets pacers (sheetsClientFor). Each target queues at
 * the gate in a lane of its own, and the lanes take turns (ProviderGate.lane): each
 * target gets an equal share of the model whatever its size or its number of workers,
 * so a 50-row tab is done long before a 20,000-row one.
 * Each target has its own lock, writer, summary and end; one failing stops no other.
 */
export async function runPortfolio(targets: readonly Config[], secrets: Secrets, options: PortfolioOptions = {}): Promise<PortfolioRun> {
  const [first] = targets;
  if (!first) throw new RangeError('runPortfolio needs at least one target');
  const group = randomUUID();
  // One store for every target (the cache is top-level: every target has the same), opened here unless the caller holds one.
  const store = options.store ?? (await openStore(first.cache));
  try {
    // What the gates doubt (an unbelievable rate-limit header) is said once, in the summary of
    // the target whose request showed it (each run hears its own lane: ProviderGate.heard).
    const gates: ReadonlyMap<string, ProviderGate> = options.gates ?? (await providerGates(first, secrets, options.dryRun ? undefined : store.limitMemory()));
    const progress = new CombinedProgress(targets.length, options.onProgress);
    const { each, ...shared } = options;
    // Across targets: one question asked once, and --limit N rows for the whole run.
    // A dry run commits nothing to the cache: the board keeps the answers for the later askers.
    const board = targets.length > 1 ? new QuestionBoard({ keepAnswers: options.dryRun ?? false }) : undefined;
    const limitBudget = options.limit === undefined ? undefined : { remaining: options.limit };
    const settled = await Promise.allSettled(
      targets.map((config, i) => {
        const own = each?.(config, i) ?? {};
        const onProgress = (p: Progress) => {
          own.onProgress?.(p);
          progress.update(i, p);
        };
        return runValidation(config, secrets, { ...shared, ...own, store, gates: lanesOf(gates, config.target.name), group, onProgress, ...(board ? { board } : {}), ...(limitBudget ? { limitBudget } : {}) });
      }),
    );
    const outcomes: TargetOutcome[] = [];
    let bug: Error | undefined;
    settled.forEach((result, i) => {
      const config = targets[i] as Config;
      if (result.status === 'fulfilled') outcomes.push({ summary: result.value, locked: false });
      else if (result.reason instanceof StatusValidatorError) outcomes.push(notRun(config, result.reason, options, group, secrets));
      else bug ??= result.reason instanceof Error ? result.reason : new Error(String(result.reason));
    });
    // A bug in one target let the others finish their writes; then it is told as a bug.
    if (bug !== undefined) throw bug;
    return { group, targets: outcomes };
  } finally {
    if (!options.store) await store.close();
  }
}

/** The gates as one target sees them: its own lane of each (a lone target's is the only one). */
function lanesOf(gates: ReadonlyMap<string, ProviderGate>, target: string): ReadonlyMap<string, ProviderGate> {
  return new Map([...gates].map(([name, gate]) => [name, gate.lane(target)] as const));
}

/** The summary of a target that could not start (its lock held, its cache unreadable). */
function notRun(config: Config, error: StatusValidatorError, options: PortfolioOptions, group: string, secrets: Secrets): TargetOutcome {
  const now = options.now?.() ?? new Date();
  const tally = new Tally(randomUUID(), config, options.dryRun ?? false, now, [], options.trigger ?? 'cli', group);
  tally.fatal(redact(error.message, secrets.all), error.hint);
  return { summary: tally.finish(now, false), locked: error instanceof LockedError };
}

/** The progress of all targets as one: sums, in the phase of the target furthest behind. */
class CombinedProgress {
  private readonly each: Progress[];

  constructor(count: number, private readonly onProgress: ((p: Progress) => void) | undefined) {
    this.each = Array.from({ length: count }, () => ({ phase: 'reading', questions: 0, answered: 0, errors: 0, retries: 0, rowsWritten: 0 }));
  }

  update(index: number, progress: Progress): void {
    if (!this.onProgress) return;
    this.each[index] = { ...progress };
    const order: Array<Progress['phase']> = ['reading', 'validating', 'writing', 'done'];
    const phase = order[Math.min(...this.each.map((p) => order.indexOf(p.phase)))] ?? 'done';
    const sum = (key: 'questions' | 'answered' | 'errors' | 'retries' | 'rowsWritten') => this.each.reduce((n, p) => n + p[key], 0);
    this.onProgress({ phase, questions: sum('questions'), answered: sum('answered'), errors: sum('errors'), retries: sum('retries'), rowsWritten: sum('rowsWritten') });
  }
}
