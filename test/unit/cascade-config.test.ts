import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';

const base = {
  sheets: { spreadsheet_id: '1AbC-dEf_123', sheet: 'Statuses' },
  columns: { status: 'Status', comment: 'Comment' },
  rules: { allowed_statuses: ['Planned', 'Done'], text: 'Say what is next and by when.' },
};

function parse(llm: Record<string, unknown>) {
  return parseConfig(stringify({ ...base, llm: { providers: [{ name: 'primary', model: 'gpt-5-mini' }], ...llm } }), '/tmp/config.yaml', {});
}

function problems(llm: Record<string, unknown>): Array<{ path: string; message: string }> {
  try {
    parse(llm);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => ({ path: p.path, message: p.message }));
  }
  throw new Error('expected a ConfigError');
}

describe('llm.cascade', () => {
  it('takes the two models and defaults the target, the confidence and the label budget', () => {
    expect(parse({ cascade: { small: 'gpt-5-nano', large: 'gpt-5-mini' } }).llm.cascade).toEqual({ small: 'gpt-5-nano', large: 'gpt-5-mini', target_agreement: 0.95, confidence: 0.95, label_budget: 200 });
  });

  it('refuses llm.routing beside it, naming both and what each does', () => {
    const found = problems({ cascade: { small: 'gpt-5-nano', large: 'gpt-5-mini' }, routing: { small: 'gpt-5-nano', large: 'gpt-5-mini' } });
    expect(found).toHaveLength(1);
    expect(found[0]?.path).toBe('llm.cascade');
    expect(found[0]?.message).toContain('llm.routing and llm.cascade both choose the model');
    expect(found[0]?.message).toContain('keep one');
  });

  it('says what is wrong with each field, all at once', () => {
    const found = problems({ cascade: { small: 'gpt-5-nano', large: 'gpt-5-nano', target_agreement: 1.2, confidence: 0.2, label_budget: 10, extra: 1 } });
    const at = new Map(found.map((p) => [p.path, p.message]));
    expect(at.get('llm.cascade.target_agreement')).toContain('expected a share from 0.5 to 0.999');
    expect(at.get('llm.cascade.confidence')).toContain('expected a probability from 0.5 to 0.999');
    expect(at.get('llm.cascade.label_budget')).toContain('at least 30 rows');
    expect([...at.keys()].some((p) => p.startsWith('llm.cascade'))).toBe(true);
    expect(JSON.stringify(found)).toMatch(/extra/);
  });

  it('refuses the same model twice', () => {
    const found = problems({ cascade: { small: 'gpt-5-mini', large: 'gpt-5-mini' } });
    expect(found.map((p) => p.path)).toEqual(['llm.cascade.large']);
    expect(found[0]?.message).toContain('must differ from the small one');
  });
});

describe('llm.cascade elsewhere', () => {
  it('check-config looks for both models at the first provider, named by their keys', async () => {
    const { wantedModels } = await import('../../src/doctor/providers.js');
    const config = parse({ cascade: { small: 'gpt-5-nano', large: 'gpt-5' } });
    expect(wantedModels(config, 0)).toEqual([
      { model: 'gpt-5-nano', key: 'llm.cascade.small' },
      { model: 'gpt-5', key: 'llm.cascade.large' },
    ]);
  });
});
