import type { Outcome } from '../llm/index.js';

const ZERO = Object.freeze({ promptTokens: 0, completionTokens: 0, cachedTokens: 0 });

/**
 * The questions the targets of one portfolio run are asking now, by cache key. Within a
 * tab, identical rows share one question (selectWork); across tabs, a target whose row
 * asks a question another target is already asking waits for that answer instead of
 * paying for it again (invariant 9). An answer leaves the board once given: it is in the
 * cache by then, where a later asker finds it.
 */
export class QuestionBoard {
  private readonly open = new Map<string, Promise<Outcome | undefined>>();

  /**
   * Splits a request's keys: those this caller asks (it must `settle` each, with the
   * outcome or undefined when it got none), and those another caller is asking, with
   * the outcome to wait for (undefined: that request failed; ask again).
   */
  claim(keys: readonly string[]): { mine: number[]; theirs: Array<{ index: number; answer: Promise<Outcome | undefined> }>; settle: (index: number, outcome: Outcome | undefined) => void } {
    const mine: number[] = [];
    const theirs: Array<{ index: number; answer: Promise<Outcome | undefined> }> = [];
    const resolvers = new Map<number, (outcome: Outcome | undefined) => void>();
    keys.forEach((key, index) => {
      const pending = this.open.get(key);
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
      this.open.delete(keys[index] ?? '');
      resolve(outcome);
    };
    return { mine, theirs, settle };
  }
}

/** Another target's outcome, for this one: the same verdict, none of its cost (that was paid once, there). */
export function shared(outcome: Outcome): Outcome {
  return { ...outcome, usage: ZERO };
}
