import type { Outcome } from '../llm/index.js';

const ZERO = Object.freeze({ promptTokens: 0, completionTokens: 0, cachedTokens: 0 });

/**
 * The questions the targets of one portfolio run are asking or have answered, by cache
 * key. Within a tab, identical rows share one question (selectWork); across tabs, a
 * target whose row asks a question another target is asking waits for that answer, and
 * one whose question another target has already answered during this run takes that
 * answer: each question is paid for once per run (invariant 9).
 *
 * The board, not the cache, is what a target consults: a row selected to be asked again
 * (--force, a ticked Recheck box, an old verdict) has a verdict in the cache, the very
 * one it must replace; only an answer given during this run may stand for it. A failed
 * or ERROR answer is not kept: a later asker asks again.
 */
export class QuestionBoard {
  private readonly open = new Map<string, Promise<Outcome | undefined>>();
  /** Verdicts given during this run. Held for the run only (the board lives as long as one portfolio run). */
  private readonly answered = new Map<string, Outcome>();

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
      const given = this.answered.get(key);
      const pending = given ? Promise.resolve(given) : this.open.get(key);
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
      if (outcome?.kind === 'verdict') this.answered.set(key, outcome);
      resolve(outcome);
    };
    return { mine, theirs, settle };
  }
}

/** Another target's outcome, for this one: the same verdict, none of its cost (that was paid once, there). */
export function shared(outcome: Outcome): Outcome {
  return { ...outcome, usage: ZERO };
}
