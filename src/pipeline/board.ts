import type { CachedVerdict } from '../cache/index.js';
import type { Outcome } from '../llm/index.js';

/**
 * The questions the targets of one portfolio run are asking or have answered, by cache
 * key. Within a tab, identical rows share one question (selectWork); across tabs, a
 * target whose row asks a question another target is asking waits for that answer, and
 * one whose question another target has already answered during this run takes that
 * answer: each question is paid for once per run (invariant 9).
 *
 * The board says which verdicts are this run's: a row selected to be asked again
 * (--force, a ticked Recheck box, an old verdict) has a verdict in the cache, the very
 * one it must replace, and may take the cache's verdict only once the board says this
 * run gave it (`answered`). A failed or ERROR answer is not kept: a later asker asks
 * again. The verdicts themselves are in the cache by then (committed before the board
 * hears of them), so the board holds only their keys, unless nothing is committed (a
 * dry run): then it keeps the answers, for the later askers.
 */
export class QuestionBoard {
  private readonly open = new Map<string, Promise<Outcome | undefined>>();
  /** The keys answered during this run (with the answer itself when it is not in the cache). */
  private readonly given = new Map<string, Outcome | undefined>();

  constructor(private readonly options: { keepAnswers: boolean } = { keepAnswers: false }) {}

  /** Whether a verdict for this key was given during this run (and so is the cache's, unless a dry run). */
  answered(key: string): boolean {
    return this.given.has(key);
  }

  /**
   * Whether the board itself holds this run's answer for the key (a dry run: nothing was
   * committed, so the cache still has the verdict from before, the one --force or a ticked
   * box was to replace). Such a key is taken from the board (`claim`), never the cache.
   */
  keeps(key: string): boolean {
    return this.given.get(key) !== undefined;
  }

  /**
   * Splits a request's keys: those this caller asks (it must `settle` each, with the
   * outcome or undefined when it got none), and those another caller is asking or has
   * answered, with the outcome to wait for (undefined: that request failed; ask again).
   */
  claim(keys: readonly string[]): { mine: number[]; theirs: Array<{ index: number; answer: Promise<Outcome | undefined> }>; settle: (index: number, outcome: Outcome | undefined) => void } {
    const mine: number[] = [];
    const theirs: Array<{ index: number; answer: Promise<Outcome | undefined> }> = [];
    const resolvers = new Map<number, (outcome: Outcome | undefined) => void>();
    keys.forEach((key, index) => {
      const kept = this.given.get(key);
      const pending = kept ? Promise.resolve(kept) : this.open.get(key);
      if (pending) {
        theirs.push({ index, answer: pending });
        return;
      }
      mine.push(index);
      this.open.set(key, new Promise((resolve) => resolvers.set(index, resolve)));
    });
    const settle = (index: number, outcome: Outcome | undefined) => {
      const resolve = resolvers.get(index);
      if (!resolve) return;
      resolvers.delete(index);
      const key = keys[index] ?? '';
      this.open.delete(key);
      if (outcome?.kind === 'verdict') this.given.set(key, this.options.keepAnswers ? outcome : undefined);
      resolve(outcome);
    };
    return { mine, theirs, settle };
  }
}

/**
 * A verdict another instance paid for (found in the cache), as the outcome the board hands
 * this run's other targets. Its usage is what the answer took (as recorded): a target handed
 * an outcome pays nothing for it (its cost is counted from the calls it made, none), and
 * prices its naive baseline at what asking would have cost, as the target that asked does.
 */
export function cachedOutcome(verdict: CachedVerdict): Outcome {
  const usage = { promptTokens: verdict.promptTokens, completionTokens: verdict.completionTokens, cachedTokens: verdict.cachedTokens };
  return { kind: 'verdict', provider: verdict.provider, model: verdict.model, verdict: verdict.verdict, issues: verdict.issues, suggestion: verdict.suggestion, confidence: verdict.confidence, usage };
}
