import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { cacheKey } from '../../src/cache/index.js';
import { parseConfig } from '../../src/config/index.js';
import { groupNearDuplicates } from '../../src/dedup/index.js';
import { estimateModes } from '../../src/estimate/index.js';
import { OUTPUT_SCHEMA_VERSION } from '../../src/llm/answer.js';
import { PROMPT_VERSION, buildMessages, buildPackedMessages, promptCacheKey, systemPrompt, type PromptRules } from '../../src/llm/prompt.js';
import { complexity } from '../../src/llm/routing.js';
import { decideVerdict } from '../../src/llm/verdict.js';
import { keyerOf, promptRulesOf } from '../../src/pipeline/index.js';
import { semanticPartition, semanticText } from '../../src/semantic/index.js';
import { fingerprintOf, type Entry, type RowInputs } from '../../src/sheets/index.js';
import { createHash } from 'node:crypto';

const sha = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex');
const FIXED: RowInputs = { status: 'In progress', comment: 'Shipped the API; next: the UI, by 2026-03-01.', completion_date: '2026-03-01' };
const FIXED_PARTS = { rulesText: 'Say what is next and by when.', allowedStatuses: ['Planned', 'In progress', 'Done'], promptVersion: 'prompt-v2', model: 'gpt-5-mini', schemaVersion: 'answer-v1' };

function configWith(columns: Record<string, unknown>, rules: Record<string, unknown> = { allowed_statuses: ['Planned', 'In progress', 'Done'], text: 'Say what is next and by when.' }) {
  return parseConfig(stringify({ sheets: { spreadsheet_id: '1AbC', sheet: 'Statuses' }, columns, rules, llm: { max_comment_chars: 100, providers: [{ name: 'p', model: 'gpt-5-mini' }] } }), '/tmp/c.yaml', {});
}
const entryOf = (inputs: RowInputs): Entry => ({ row: 2, id: 'P-1', inputs, outputs: { verdict: '', issues: '', suggestion: '', checked_at: '', model: '' }, review: { recheck: '', override: '' } });

describe('a config without columns.inputs pays nothing again (keys pinned to the values before issue 14)', () => {
  it('keeps the cache key of a fixed input byte for byte', () => {
    // Computed with the cacheKey of commit 4dd1c05, before extra inputs existed.
    expect(cacheKey({ inputs: FIXED, ...FIXED_PARTS })).toBe('f783d401e298c69f1c58b4926018bf868caaa9d4dfe5782fb20d36a60a52d032');
    expect(cacheKey({ inputs: FIXED, ...FIXED_PARTS, shape: '' })).toBe('f783d401e298c69f1c58b4926018bf868caaa9d4dfe5782fb20d36a60a52d032');
  });

  it("keeps a row's fingerprint byte for byte", () => {
    expect(fingerprintOf('P-1', FIXED, 'VALID')).toBe('-2ByEbYLARfa2SIP3cHn1Q');
  });

  it('keeps the prompt text (so PROMPT_VERSION stays) and the auto prompt_cache_key', () => {
    const rules: PromptRules = { rulesText: FIXED_PARTS.rulesText, allowedStatuses: FIXED_PARTS.allowedStatuses, maxCommentChars: 100 };
    const long = { ...FIXED, comment: `${FIXED.comment} `.repeat(4) };
    // Hashes of the messages the prompt.ts of commit 4dd1c05 built for these rows.
    expect(sha(buildMessages(long, rules, '2026-02-01'))).toBe('8a07d103f3544846f97b67ef6d2fd8f60313d69db475da927dea32a81094510e');
    expect(sha(buildPackedMessages([{ label: 'r1', inputs: long }, { label: 'r2', inputs: long }], rules, '2026-02-01'))).toBe('caf877537746f850eb7f0ea547f939ae8c1d9f7ff172be11c05dad0d0052334e');
    expect(promptCacheKey('auto', rules, 'gpt-5-mini')).toBe('status-validator-f470ef53773fc807');
    expect(PROMPT_VERSION).toBe('prompt-v2');
  });

  it('computes the keys of a standard config exactly as without a shape', () => {
    const config = configWith({ id: 'Project', status: 'Status', comment: 'Comment', completion_date: 'Due date' });
    expect(promptRulesOf(config).shape).toBeUndefined();
    expect(keyerOf(config)(entryOf(FIXED))).toBe(cacheKey({ inputs: FIXED, ...FIXED_PARTS, promptVersion: PROMPT_VERSION, schemaVersion: OUTPUT_SCHEMA_VERSION }));
  });
});

describe('extra inputs in the cache key', () => {
  const config = configWith({ status: 'Status', comment: 'Comment', inputs: { owner: 'Owner', budget: 'Budget (k€)' } });
  const key = keyerOf(config);
  const row: RowInputs = { ...FIXED, extra: ['Ana', '12'] };

  it('differs when one extra changes, and from the same row without extras', () => {
    expect(key(entryOf(row))).not.toBe(key(entryOf({ ...row, extra: ['Bo', '12'] })));
    expect(key(entryOf(row))).not.toBe(key(entryOf({ ...row, extra: ['Ana', '13'] })));
    expect(key(entryOf({ ...row, extra: ['', ''] }))).not.toBe(keyerOf(configWith({ status: 'Status', comment: 'Comment' }))(entryOf(FIXED)));
    expect(key(entryOf(row))).toBe(key(entryOf({ ...row, extra: ['Ana', '12'] })));
  });

  it('differs when a header is renamed (the prompt shows it)', () => {
    const renamed = keyerOf(configWith({ status: 'Status', comment: 'Comment', inputs: { owner: 'Owner (lead)', budget: 'Budget (k€)' } }));
    expect(renamed(entryOf(row))).not.toBe(key(entryOf(row)));
  });

  it('is part of the fingerprint, appended after the standard fields', () => {
    expect(fingerprintOf('P-1', row)).not.toBe(fingerprintOf('P-1', { ...row, extra: ['Bo', '12'] }));
    expect(fingerprintOf('P-1', { ...FIXED, extra: [] })).not.toBe(fingerprintOf('P-1', FIXED));
  });
});

describe('extra inputs in the prompt', () => {
  const config = configWith({ status: 'Risk level', comment: 'Mitigation', completion_date: 'Review by', inputs: { owner: 'Owner', budget: 'Budget (k€)', odd: 'status' } });
  const rules = promptRulesOf(config);
  const row: RowInputs = { status: 'High', comment: 'Second supplier qualified.', completion_date: '2026-03-01', extra: ['Ana', '1'.repeat(150), 'x'] };

  it('puts them in the row JSON under their header names, after the standard fields, long ones cut with a note', () => {
    const user = buildMessages(row, rules, '2026-02-01')[1]?.content ?? '';
    const json = JSON.parse(user.slice(user.indexOf('{'))) as Record<string, string>;
    expect(Object.keys(json)).toEqual(['status', 'comment', 'completion_date', 'Owner', 'Budget (k€)', 'status (column)']);
    expect(json['Budget (k€)']).toHaveLength(100);
    expect(user).toContain('Note: "Budget (k€)" was 150 characters long; only the first 100 are shown.');
  });

  it('describes the configured columns instead of a project status row', () => {
    const system = systemPrompt(rules);
    expect(system).toContain('You check rows of a spreadsheet against a rulebook.');
    expect(system).toContain('a status (column "Risk level", JSON key "status")');
    expect(system).toContain('the column "Budget (k€)" (JSON key "Budget (k€)")');
    expect(system).not.toContain('project status');
  });

  it('leaves out the allowed-statuses section and the status check when none are configured', () => {
    const bare = promptRulesOf(configWith({ inputs: { owner: 'Owner' } }, { text: '"Owner" must not be empty.' }));
    expect(systemPrompt(bare)).not.toContain('Allowed statuses');
    const user = buildMessages({ status: '', comment: '', completion_date: '', extra: ['Ana'] }, bare, '2026-02-01')[1]?.content ?? '';
    expect(JSON.parse(user.slice(user.indexOf('{')))).toEqual({ Owner: 'Ana' });
    expect(decideVerdict({ is_valid: true, issues: [], rewrite_suggestion: '' }, { status: '', comment: '', completion_date: '' }, bare.allowedStatuses).verdict).toBe('VALID');
  });

  it('carries them in packed requests and in the estimate', () => {
    const packed = buildPackedMessages([{ label: 'r1', inputs: row }, { label: 'r2', inputs: { ...row, extra: ['Bo', '2', ''] } }], rules, '2026-02-01')[1]?.content ?? '';
    const rows = JSON.parse(packed.slice(packed.indexOf('['))) as Array<Record<string, string>>;
    expect(rows.map((r) => [r.row, r.Owner])).toEqual([['r1', 'Ana'], ['r2', 'Bo']]);
    const estimate = (extra: string) =>
      estimateModes({ questions: [{ ...row, extra: [extra, '', ''] }], rules, today: '2026-02-01', count: (t) => t.length, completionPerRow: 10, packSize: 1, price: undefined })[1]?.promptTokens ?? 0;
    expect(estimate('A much longer owner name')).toBeGreaterThan(estimate('A'));
  });
});

describe('extra inputs in dedup, the semantic cache and routing', () => {
  const a: RowInputs = { status: 'Done', comment: 'Shipped the API and wrote the docs for it', completion_date: '', extra: ['Ana'] };
  const b: RowInputs = { ...a, extra: [''] };

  it('never lets rows that differ only in an extra share an answer', () => {
    const { groups } = groupNearDuplicates([a, b, { ...a }], (x) => x, { threshold: 50 });
    expect(groups.map((g) => [g.leader.extra, g.followers.length])).toEqual([
      [['Ana'], 1],
      [[''], 0],
    ]);
  });

  it('embeds the extras under their headers and keeps them apart in the partition', () => {
    expect(semanticText(a, ['Owner'])).toBe('Shipped the API and wrote the docs for it\nDue date: none\nOwner: Ana');
    expect(semanticText({ comment: 'x', completion_date: '' })).toBe('x\nDue date: none');
    expect(semanticPartition(a)).not.toBe(semanticPartition(b));
    expect(semanticPartition({ status: 'Done' })).toBe('Done');
  });

  it('counts the extras in the routing complexity', () => {
    const plain = { status: 'Done', comment: 'Shipped.', completion_date: '' };
    expect(complexity({ ...plain, extra: ['Owner Ana since 2026-01-01', 'Budget raised by 2026-02-01; see memo'] })).toBeGreaterThan(complexity(plain));
    expect(complexity({ ...plain })).toBe(complexity(plain));
  });
});
