import { describe, expect, it } from 'vitest';
import { LlmError } from '../../src/errors.js';
import { RefusalJudge, type Judgement } from '../../src/llm/index.js';

const rejected = (message: string) => new LlmError(message, { provider: 'p', kind: 'rejected', retryable: false, status: 400 });
const provider = { name: 'p', model: 'm' };

describe('RefusalJudge', () => {
  it('judges the configuration at the third question refused with the same message, and says so once', () => {
    const judge = new RefusalJudge();
    const heard: Judgement[] = [];
    judge.onJudged((j) => heard.push(j));
    expect(judge.refused(provider, rejected('same'))).toBeUndefined();
    expect(judge.refused(provider, rejected('other'))).toBeUndefined();
    expect(judge.refused(provider, rejected('same'))).toBeUndefined();
    expect(judge.judgement).toBe('open');
    const fatal = judge.refused(provider, rejected('same'));
    expect(fatal?.message).toMatch(/^same: the first 3 rows asked were all refused/);
    expect(judge.judgement).toBe('config');
    expect(judge.stopped).toBe(fatal);
    judge.answered();
    expect(heard).toEqual(['config']);
  });

  it('an answer first makes every later 400 a row’s own', () => {
    const judge = new RefusalJudge();
    judge.refused(provider, rejected('same'));
    judge.answered();
    for (let i = 0; i < 10; i++) expect(judge.refused(provider, rejected('same'))).toBeUndefined();
    expect(judge.judgement).toBe('rows');
  });

  it('counts per provider and model: the same words from two models are two problems', () => {
    const judge = new RefusalJudge();
    for (let i = 0; i < 2; i++) {
      expect(judge.refused({ name: 'p', model: 'a' }, rejected('same'))).toBeUndefined();
      expect(judge.refused({ name: 'p', model: 'b' }, rejected('same'))).toBeUndefined();
    }
    expect(judge.judgement).toBe('open');
  });

  it('refuses a threshold under 2 (one row’s 400 is no evidence about the others)', () => {
    expect(() => new RefusalJudge(1)).toThrow(/at least 2/);
  });
});
