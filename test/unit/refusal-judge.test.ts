import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FatalRunError, LlmError } from '../../src/errors.js';
import { RefusalJudge, type Judgement } from '../../src/llm/index.js';

const rejected = (message: string) => new LlmError(message, { provider: 'p', kind: 'rejected', retryable: false, status: 400 });
const provider = { name: 'p', model: 'm' };

describe('RefusalJudge', () => {
  it('condemns the provider+model at the third distinct row refused with the same message, the same error ever after', () => {
    const judge = new RefusalJudge();
    expect(judge.refused(provider, rejected('same'), 'row 1')).toBeUndefined();
    expect(judge.refused(provider, rejected('other'), 'row 2')).toBeUndefined();
    expect(judge.refused(provider, rejected('same'), 'row 2')).toBeUndefined();
    expect(judge.judgement).toBe('open');
    const verdict = judge.refused(provider, rejected('same'), 'row 3');
    expect(verdict?.message).toMatch(/^same: the first 3 rows asked were all refused/);
    expect(verdict?.kind).toBe('config');
    expect(verdict?.hint).toMatch(/Check llm\.providers "p": the model name \(m\)/);
    expect(judge.refused(provider, rejected('anything'), 'row 4')).toBe(verdict);
    // Condemning a provider is not stopping the run: a fallback may still serve.
    expect(judge.judgement).toBe('open');
    expect(judge.stopped).toBeUndefined();
  });

  it('counts rows, not requests: the same question refused again (or a twin row) counts once', () => {
    const judge = new RefusalJudge();
    for (let i = 0; i < 10; i++) expect(judge.refused(provider, rejected('same'), 'row 1')).toBeUndefined();
    expect(judge.refused(provider, rejected('same'), 'row 2')).toBeUndefined();
    expect(judge.refused(provider, rejected('same'), 'row 3')).toBeDefined();
  });

  it('stops the run (config, said once) only when the stop is its own verdict; another fatal leaves it open', () => {
    const judge = new RefusalJudge();
    const heard: Judgement[] = [];
    judge.onJudged((j) => heard.push(j));
    judge.doomed(new FatalRunError('bad key', { cause: rejected('401') }));
    expect(judge.judgement).toBe('open');
    let verdict: LlmError | undefined;
    for (const row of ['a', 'b', 'c']) verdict = judge.refused(provider, rejected('same'), row);
    const fatal = new FatalRunError(verdict?.message ?? '', { cause: verdict });
    judge.doomed(fatal);
    expect(judge.judgement).toBe('config');
    expect(judge.stopped).toBe(fatal);
    judge.answered(provider);
    expect(heard).toEqual(['config']);
  });

  it('an answer from a provider makes its later 400s the rows’ own; another provider’s answer does not', () => {
    const judge = new RefusalJudge();
    const backup = { name: 'backup', model: 'b' };
    judge.refused(provider, rejected('same'), 'row 0');
    judge.answered(provider);
    for (let i = 0; i < 10; i++) expect(judge.refused(provider, rejected('same'), `row ${i}`)).toBeUndefined();
    expect(judge.judgement).toBe('rows');
    // The backup answering says nothing about a primary that refuses every row.
    const other = new RefusalJudge();
    other.answered(backup);
    other.refused(provider, rejected('same'), 'a');
    other.refused(provider, rejected('same'), 'b');
    expect(other.refused(provider, rejected('same'), 'c')?.kind).toBe('config');
  });

  it('counts per provider and model: the same words from two models are two problems', () => {
    const judge = new RefusalJudge();
    for (let i = 0; i < 2; i++) {
      expect(judge.refused({ name: 'p', model: 'a' }, rejected('same'), `row ${i}`)).toBeUndefined();
      expect(judge.refused({ name: 'p', model: 'b' }, rejected('same'), `row ${i}`)).toBeUndefined();
    }
    expect(judge.judgement).toBe('open');
  });

  it('refuses a threshold under 2 (one row’s 400 is no evidence about the others)', () => {
    expect(() => new RefusalJudge(1)).toThrow(/at least 2/);
  });

  it('never condemns on fewer distinct rows than the threshold, whatever the messages and repeats', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('x', 'y'), fc.constantFrom('r1', 'r2')), { maxLength: 40 }), (refusals) => {
        const judge = new RefusalJudge();
        for (const [message, row] of refusals) expect(judge.refused(provider, rejected(message), row)).toBeUndefined();
      }),
    );
  });
});
