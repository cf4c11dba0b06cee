import { describe, expect, it } from 'vitest';
import type { Outcome } from '../../src/llm/index.js';
import { QuestionBoard } from '../../src/pipeline/board.js';

const usage = { promptTokens: 10, completionTokens: 5, cachedTokens: 0 };
const verdict = (issue: string): Outcome => ({ kind: 'verdict', provider: 'p', model: 'm', usage, verdict: 'VALID', issues: [issue], suggestion: '', confidence: 0.9 });

describe('QuestionBoard', () => {
  it('gives a question being asked to a later caller, who waits for its answer', async () => {
    const board = new QuestionBoard();
    const first = board.claim(['k1', 'k2']);
    expect(first.mine).toEqual([0, 1]);
    const second = board.claim(['k2', 'k3']);
    expect(second.mine).toEqual([1]);
    expect(second.theirs.map((t) => t.index)).toEqual([0]);
    first.settle(1, verdict('fresh'));
    await expect(second.theirs[0]?.answer).resolves.toMatchObject({ issues: ['fresh'] });
  });

  it('keeps an answer only when nothing is committed (a dry run): then it, not the cache, is the answer for the key', () => {
    const dry = new QuestionBoard({ keepAnswers: true });
    const asked = dry.claim(['k1']);
    expect(dry.keeps('k1')).toBe(false);
    asked.settle(0, verdict('fresh'));
    expect(dry.keeps('k1')).toBe(true);
    const committed = new QuestionBoard();
    const mine = committed.claim(['k1']);
    mine.settle(0, verdict('fresh'));
    expect([committed.answered('k1'), committed.keeps('k1')]).toEqual([true, false]);
  });

  it('tells which keys were answered during the run (their verdicts are in the cache), holding no answer', () => {
    const board = new QuestionBoard();
    const first = board.claim(['k1']);
    expect(board.answered('k1')).toBe(false); // asked, not yet answered: the cache's verdict is still the old one
    first.settle(0, verdict('given'));
    expect(board.answered('k1')).toBe(true);
    expect(board.answered('k2')).toBe(false);
  });

  it('in a dry run (nothing committed) keeps the answers: a caller after the answer takes it, not asking again', async () => {
    const board = new QuestionBoard({ keepAnswers: true });
    board.claim(['k1']).settle(0, verdict('given'));
    const later = board.claim(['k1']);
    expect(later.mine).toEqual([]);
    await expect(later.theirs[0]?.answer).resolves.toMatchObject({ issues: ['given'] });
  });

  it('keeps no failed or ERROR answer: the next caller asks', () => {
    const board = new QuestionBoard({ keepAnswers: true });
    const first = board.claim(['k1', 'k2']);
    first.settle(0, undefined);
    first.settle(1, { kind: 'error', reason: 'bad', usage });
    expect([board.answered('k1'), board.answered('k2')]).toEqual([false, false]);
    expect(board.claim(['k1', 'k2']).mine).toEqual([0, 1]);
  });
});
