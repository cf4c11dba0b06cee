/**
 * Config messages are the project's own words: whatever a YAML file holds, loading it
 * either succeeds or throws a ConfigError whose every problem is phrased for a person,
 * never zod's type talk ("Invalid input: expected object, received undefined").
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parsePortfolio } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';

/** zod's own phrasing: "received X", "Invalid input/option", "Too small/big: expected number…", "expected object". */
const ZOD_WORDS = /\breceived\b|Invalid (input|option|key|element|union)|Too (small|big)|Unrecognized key|\bexpected (string|number|object|array|boolean|int|record|nonoptional|undefined|null|bigint|date|map|set|nan)\b/;

/** Keys the schema knows, at any level, so random sections often reach deep into it. */
const KEYS = [
  'sheets', 'columns', 'output', 'rules', 'llm', 'cache', 'review', 'report', 'pricing', 'dedup', 'serve', 'targets',
  'spreadsheet_id', 'sheet', 'header_row', 'credentials_file', 'api_root', 'id', 'status', 'comment', 'completion_date', 'inputs',
  'allowed_statuses', 'text', 'providers', 'name', 'model', 'base_url', 'api_key_env', 'rpm', 'tpm', 'max_workers', 'routing',
  'small', 'large', 'threshold', 'path', 'semantic', 'min_confidence', 'recheck_older_than', 'override_column', 'runs_sheet',
  'input', 'output', 'fuzzy_threshold', 'allow', 'admins', 'max_rows', 'google_client_id', 'format', 'dashboard_sheet', 'x',
];

const scalar = fc.oneof(fc.constant(null), fc.boolean(), fc.integer({ min: -5, max: 2000 }), fc.double({ noNaN: true }), fc.string({ maxLength: 12 }), fc.constantFrom('', 'gpt-5-mini', 'https://x.example/v1', '7d', 'a@b.cd', 'Status'));
const value = fc.letrec((tie) => ({
  any: fc.oneof({ depthSize: 'small' }, scalar, tie('list'), tie('map')),
  list: fc.array(tie('any'), { maxLength: 3 }),
  map: fc.dictionary(fc.constantFrom(...KEYS), tie('any'), { maxKeys: 5 }),
})).any;

/** A plausible config with some sections missing, null, of the wrong kind, or random. */
const base = {
  sheets: { spreadsheet_id: 'abc123', sheet: 'Statuses' },
  columns: { status: 'Status', comment: 'Comment' },
  rules: { allowed_statuses: ['Done'], text: 'Say what is next.' },
  llm: { providers: [{ name: 'p', model: 'gpt-5-mini' }] },
};
const config = fc
  .record({
    drop: fc.subarray(Object.keys(base)),
    replace: fc.dictionary(fc.constantFrom(...KEYS.slice(0, 12)), value, { maxKeys: 4 }),
  })
  .map(({ drop, replace }) => {
    const out: Record<string, unknown> = { ...base };
    for (const key of drop) delete out[key];
    return { ...out, ...replace };
  });

function messagesOf(source: string): string[] {
  try {
    parsePortfolio(source, '/tmp/config.yaml', {});
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    expect(error.problems.length).toBeGreaterThan(0);
    return [error.message, ...error.problems.map((p) => p.message)];
  }
}

describe('config messages', () => {
  it('never throw anything but a ConfigError, and never use zod\'s raw phrases, for random YAML configs', () => {
    fc.assert(
      fc.property(config, (data) => {
        for (const message of messagesOf(stringify(data))) expect(message).not.toMatch(ZOD_WORDS);
      }),
      { numRuns: 400 },
    );
  });

  it('never throw anything but a ConfigError for random text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: fc.constantFrom('a', ':', ' ', '\n', '\t', '-', '[', ']', '{', '}', '"', "'", '#', '&', '*', '!', '|', '>'), maxLength: 80 })), (text) => {
        for (const message of messagesOf(text)) expect(message).not.toMatch(ZOD_WORDS);
      }),
      { numRuns: 400 },
    );
  });

  it('the pattern recognizes zod\'s phrasing (so the properties above can fail)', () => {
    expect('Invalid input: expected object, received undefined').toMatch(ZOD_WORDS);
    expect('Too small: expected number to be >=1').toMatch(ZOD_WORDS);
    expect('expected the tab name (a text)').not.toMatch(ZOD_WORDS);
  });
});
