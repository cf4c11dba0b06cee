import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig } from '../../src/config/index.js';
import { configError } from '../support/config-file.js';
import { REPO_ROOT } from '../support/inspect.js';

const FILE = '/tmp/status-validator/config.yaml';

function configText(llm: Record<string, unknown>): string {
  return stringify({
    sheets: { spreadsheet_id: '1AbC-dEf_123', sheet: 'Statuses' },
    columns: { status: 'Status', comment: 'Comment' },
    rules: { allowed_statuses: ['Planned', 'Done'], text: 'Say what is next and by when.' },
    llm: { providers: [{ name: 'primary', model: 'gpt-5-mini' }], ...llm },
  });
}

describe('llm.learn_answer_size', () => {
  it('is on by default and may be turned off', () => {
    expect(parseConfig(configText({}), FILE, {}).llm.learn_answer_size).toBe(true);
    expect(parseConfig(configText({ learn_answer_size: false }), FILE, {}).llm.learn_answer_size).toBe(false);
  });

  it('refuses anything but true or false, naming the field and what each means', () => {
    const error = configError(() => parseConfig(configText({ learn_answer_size: 'no' }), FILE, {}));
    expect(error.problems.map((p) => p.path)).toEqual(['llm.learn_answer_size']);
    expect(error.problems[0]?.message).toMatch(/expected true \(reserve what answers use\) or false \(always reserve max_completion_tokens\)/);
  });

  it('is shown, commented, in config.example.yaml', () => {
    expect(readFileSync(path.join(REPO_ROOT, 'config.example.yaml'), 'utf8')).toMatch(/# learn_answer_size: true/);
  });
});
