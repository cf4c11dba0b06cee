import { describe, expect, it } from 'vitest';
import { parseAnswer, parsePacked, type Answer } from '../../src/llm/answer.js';
import { PROMPT_VERSION, buildMessages, buildPackedMessages, isAllowedStatus, promptCacheKey, rowPrompt, systemPrompt, type PromptRules } from '../../src/llm/prompt.js';
import { decideVerdict } from '../../src/llm/verdict.js';
import type { RowInputs } from '../../src/sheets/index.js';

const RULES: PromptRules = {
  rulesText: 'The comment must say what was done, what is next and by when.',
  allowedStatuses: ['Planned', 'In progress', 'Done'],
  maxCommentChars: 200,
};

const ROW_A: RowInputs = { status: 'Done', comment: 'Shipped the API; docs next by 2025-07-01', completion_date: '2025-07-01' };
const ROW_B: RowInputs = { status: 'Planned', comment: 'Кик-офф в июле', completion_date: '' };
const TODAY = '2025-06-30';

describe('parseAnswer', () => {
  const valid = { is_valid: true, issues: [], rewrite_suggestion: '' };

  it('accepts a JSON object of the answer shape', () => {
    const text = JSON.stringify({ is_valid: false, issues: ['No due date.'], rewrite_suggestion: 'Done; next: docs by July.' });
    expect(parseAnswer(text)).toEqual({
      ok: true,
      value: { is_valid: false, issues: ['No due date.'], rewrite_suggestion: 'Done; next: docs by July.' },
    });
  });

  it('accepts JSON wrapped in a Markdown fence, with or without a language', () => {
    expect(parseAnswer(`\`\`\`json\n${JSON.stringify(valid)}\n\`\`\``)).toEqual({ ok: true, value: valid });
    expect(parseAnswer(`  \`\`\`\n${JSON.stringify(valid)}\n\`\`\`\n`)).toEqual({ ok: true, value: valid });
  });

  it('rejects the string "false" for is_valid', () => {
    const result = parseAnswer(JSON.stringify({ ...valid, is_valid: 'false' }));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problem).toMatch(/did not match the schema \(is_valid: /);
  });

  it('rejects an answer with a missing key, naming the key', () => {
    const result = parseAnswer(JSON.stringify({ is_valid: true, issues: [] }));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problem).toContain('rewrite_suggestion');
  });

  it('rejects issues that are not a list of strings', () => {
    const result = parseAnswer(JSON.stringify({ ...valid, issues: [1, 2] }));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problem).toContain('issues.0');
  });

  it('rejects text that is not JSON', () => {
    expect(parseAnswer('The row looks fine to me.')).toEqual({ ok: false, problem: 'the answer was not valid JSON' });
    expect(parseAnswer('{"is_valid": true, "issues": [')).toEqual({ ok: false, problem: 'the answer was not valid JSON' });
  });

  it('rejects JSON that is not an object', () => {
    expect(parseAnswer('[true]').ok).toBe(false);
    expect(parseAnswer('null').ok).toBe(false);
  });

  it('rejects an empty answer', () => {
    for (const empty of ['', '   \n', null, undefined]) {
      expect(parseAnswer(empty)).toEqual({ ok: false, problem: 'the answer was empty' });
    }
  });
});

describe('buildMessages', () => {
  it('sends the same static system prompt first for different rows', () => {
    const a = buildMessages(ROW_A, RULES, TODAY);
    const b = buildMessages(ROW_B, RULES, '2031-01-01');
    expect(a[0]?.role).toBe('system');
    expect(a[0]).toEqual(b[0]);
    expect(a[0]?.content).toBe(systemPrompt(RULES));
    expect(a).toHaveLength(2);
  });

  it('puts the rules, every allowed status and the answer schema in the system prompt', () => {
    const system = systemPrompt(RULES);
    expect(system).toContain(RULES.rulesText);
    for (const status of RULES.allowedStatuses) expect(system).toContain(`- ${status}`);
    expect(system).toContain('"rewrite_suggestion"');
    expect(system).not.toContain(ROW_A.comment);
    expect(system).not.toContain(TODAY);
  });

  it("puts the row last, after today's date", () => {
    const messages = buildMessages(ROW_A, RULES, TODAY);
    const user = messages.at(-1);
    expect(user?.role).toBe('user');
    const content = user?.content ?? '';
    const dateAt = content.indexOf(`Today's date: ${TODAY}`);
    const rowJson = JSON.stringify({ status: ROW_A.status, comment: ROW_A.comment, completion_date: ROW_A.completion_date });
    expect(dateAt).toBeGreaterThanOrEqual(0);
    expect(content.indexOf(rowJson)).toBeGreaterThan(dateAt);
    expect(content.endsWith(rowJson)).toBe(true);
  });

  it('never puts the row id in the prompt, even when the row object carries one', () => {
    const entryLike = { ...ROW_A, id: 'PRJ-ID-4242', row: 17 };
    const text = buildMessages(entryLike, RULES, TODAY)
      .map((m) => m.content)
      .join('\n');
    expect(text).not.toContain('PRJ-ID-4242');
    expect(text).not.toContain('"id"');
  });

  it('cuts a long comment to the limit and says so', () => {
    const long = `${'a'.repeat(200)}TAIL-NOT-SHOWN${'b'.repeat(36)}`;
    const content = rowPrompt({ ...ROW_A, comment: long }, RULES, TODAY);
    expect(content).toContain(`"comment":"${'a'.repeat(200)}"`);
    expect(content).not.toContain('TAIL-NOT-SHOWN');
    expect(content).toContain('the comment was 250 characters long; only the first 200 are shown');
  });

  it('leaves a comment at the limit whole and adds no note', () => {
    const content = rowPrompt({ ...ROW_A, comment: 'c'.repeat(200) }, RULES, TODAY);
    expect(content).toContain(`"comment":"${'c'.repeat(200)}"`);
    expect(content).not.toContain('Note:');
  });
});

describe('promptCacheKey', () => {
  it('derives a stable key from the rules and the model when auto', () => {
    const key = promptCacheKey('auto', RULES, 'gpt-5-mini');
    expect(key).toMatch(/^status-validator-[0-9a-f]{16}$/);
    expect(promptCacheKey('auto', { ...RULES, allowedStatuses: [...RULES.allowedStatuses] }, 'gpt-5-mini')).toBe(key);
  });

  it('changes the auto key when the rules, the allowed statuses or the model change', () => {
    const key = promptCacheKey('auto', RULES, 'gpt-5-mini');
    const others = [
      promptCacheKey('auto', { ...RULES, rulesText: `${RULES.rulesText} Be brief.` }, 'gpt-5-mini'),
      promptCacheKey('auto', { ...RULES, allowedStatuses: [...RULES.allowedStatuses, 'Cancelled'] }, 'gpt-5-mini'),
      promptCacheKey('auto', RULES, 'gpt-4o-mini'),
    ];
    expect(new Set([key, ...others]).size).toBe(4);
  });

  it('keeps the auto key when only the comment limit changes, since the system prompt does not', () => {
    expect(promptCacheKey('auto', { ...RULES, maxCommentChars: 5000 }, 'm')).toBe(promptCacheKey('auto', RULES, 'm'));
  });

  it('passes a fixed key through unchanged', () => {
    expect(promptCacheKey('team-statuses-v3', RULES, 'gpt-5-mini')).toBe('team-statuses-v3');
    expect(promptCacheKey('team-statuses-v3', { ...RULES, rulesText: 'other' }, 'other-model')).toBe('team-statuses-v3');
  });

  it('names the prompt version that is part of every cache key', () => {
    expect(PROMPT_VERSION).toMatch(/^prompt-v\d+$/);
  });
});

describe('isAllowedStatus', () => {
  it('matches ignoring case and extra spaces', () => {
    expect(isAllowedStatus('in progress', RULES.allowedStatuses)).toBe(true);
    expect(isAllowedStatus('  IN   Progress ', RULES.allowedStatuses)).toBe(true);
    expect(isAllowedStatus('done', [' Done '])).toBe(true);
  });

  it('matches Cyrillic statuses ignoring case', () => {
    expect(isAllowedStatus('В РАБОТЕ', ['В работе', 'Готово'])).toBe(true);
  });

  it('rejects anything else', () => {
    expect(isAllowedStatus('Done!', RULES.allowedStatuses)).toBe(false);
    expect(isAllowedStatus('InProgress', RULES.allowedStatuses)).toBe(false);
    expect(isAllowedStatus('', RULES.allowedStatuses)).toBe(false);
  });
});

describe('decideVerdict', () => {
  const saidValid: Answer = { is_valid: true, issues: [], rewrite_suggestion: '' };

  it('forces INVALID for a status outside the list, even when the model said valid', () => {
    const verdict = decideVerdict(saidValid, { ...ROW_A, status: 'Blocked' }, RULES.allowedStatuses);
    expect(verdict.verdict).toBe('INVALID');
    expect(verdict.issues).toEqual(['The status "Blocked" is not allowed; use one of: Planned, In progress, Done.']);
  });

  it('says the status is empty when it is', () => {
    const verdict = decideVerdict(saidValid, { ...ROW_A, status: '' }, RULES.allowedStatuses);
    expect(verdict.verdict).toBe('INVALID');
    expect(verdict.issues[0]).toMatch(/^The status is empty; use one of:/);
  });

  it("puts the status problem before the model's own issues", () => {
    const answer: Answer = { is_valid: false, issues: ['No due date.'], rewrite_suggestion: 'x' };
    const verdict = decideVerdict(answer, { ...ROW_A, status: 'Paused' }, RULES.allowedStatuses);
    expect(verdict.issues).toHaveLength(2);
    expect(verdict.issues[0]).toContain('"Paused"');
    expect(verdict.issues[1]).toBe('No due date.');
  });

  it("follows the model for an allowed status, matched case-insensitively", () => {
    expect(decideVerdict(saidValid, { ...ROW_A, status: 'in PROGRESS' }, RULES.allowedStatuses).verdict).toBe('VALID');
    const invalid = decideVerdict({ is_valid: false, issues: ['Vague.'], rewrite_suggestion: 'Better.' }, ROW_A, RULES.allowedStatuses);
    expect(invalid).toEqual({ verdict: 'INVALID', issues: ['Vague.'], suggestion: 'Better.', confidence: 1 });
  });

  it('trims issues and the suggestion and drops empty issues', () => {
    const answer: Answer = { is_valid: false, issues: ['  No date. ', '', '   '], rewrite_suggestion: '  Say by when.\n' };
    expect(decideVerdict(answer, ROW_A, RULES.allowedStatuses)).toEqual({ verdict: 'INVALID', issues: ['No date.'], suggestion: 'Say by when.', confidence: 1 });
  });

  it("keeps the model's confidence, and is certain when the status itself breaks the rules", () => {
    const unsure: Answer = { is_valid: true, issues: [], rewrite_suggestion: '', confidence: 0.4 };
    expect(decideVerdict(unsure, ROW_A, RULES.allowedStatuses).confidence).toBe(0.4);
    expect(decideVerdict(unsure, { ...ROW_A, status: 'Paused' }, RULES.allowedStatuses)).toMatchObject({ verdict: 'INVALID', confidence: 1 });
  });
});

describe('packed answers', () => {
  const one = (row: string, is_valid: boolean) => ({ row, is_valid, issues: [], rewrite_suggestion: '', confidence: 0.9 });

  it('gives one answer per label', () => {
    const parsed = parsePacked(JSON.stringify({ results: [one('r1', true), one('r2', false)] }), ['r1', 'r2']);
    expect(parsed.ok && [...parsed.value.keys()]).toEqual(['r1', 'r2']);
    expect(parsed.ok && parsed.value.get('r2')?.is_valid).toBe(false);
  });

  it('leaves out rows that are missing, unknown, answered twice or answered badly, so they are asked alone', () => {
    const results = [one('r1', true), one('r9', true), one('r2', true), one('r2', false), { row: 'r3', is_valid: 'yes', issues: [], rewrite_suggestion: '' }];
    const parsed = parsePacked(JSON.stringify({ results }), ['r1', 'r2', 'r3', 'r4']);
    expect(parsed.ok && [...parsed.value.keys()]).toEqual(['r1']);
  });

  it('is a problem only when no row is usable', () => {
    expect(parsePacked(JSON.stringify({ results: [] }), ['r1'])).toMatchObject({ ok: false });
    expect(parsePacked('{"verdicts": []}', ['r1'])).toMatchObject({ ok: false, problem: 'the answer has no "results" array' });
    expect(parsePacked('not json', ['r1'])).toMatchObject({ ok: false });
  });

  it('puts every row under its label after one shared static prefix', () => {
    const messages = buildPackedMessages(
      [
        { label: 'r1', inputs: { status: 'Done', comment: 'a', completion_date: '' } },
        { label: 'r2', inputs: { status: 'Planned', comment: 'b', completion_date: '2026-12-01' } },
      ],
      { rulesText: 'Rules.', allowedStatuses: ['Done', 'Planned'], maxCommentChars: 100 },
      '2026-11-21',
    );
    expect(messages).toHaveLength(2);
    expect(messages[0]?.content).toContain('one result per row');
    const rows = JSON.parse((messages[1]?.content ?? '').split('Rows to validate:\n')[1] ?? '') as Array<{ row: string }>;
    expect(rows.map((r) => r.row)).toEqual(['r1', 'r2']);
  });
});
