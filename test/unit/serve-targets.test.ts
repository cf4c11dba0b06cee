/**
 * Issue 14, item 2: which targets a POST /runs runs. Random bodies never escape as an
 * exception; a person ends at exactly one target or a refusal that names no other
 * spreadsheet; the machine token naming nothing runs them all.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parsePortfolio, type Config } from '../../src/config/index.js';
import type { Caller } from '../../src/server/auth.js';
import { parseRunAsk } from '../../src/server/request.js';
import { resolveTargets } from '../../src/server/targets.js';

const BOOK_A = 'book-a-1AbC';
const BOOK_B = 'book-b-9XyZ';

const TARGETS: Config[] = parsePortfolio(
  stringify({
    sheets: { spreadsheet_id: BOOK_A, sheet: 'Statuses' },
    columns: { status: 'Status', comment: 'Comment', id: 'Project' },
    rules: { allowed_statuses: ['Planned', 'Done'], text: 'Say what is next and by when.' },
    llm: { providers: [{ name: 'primary', model: 'gpt-5-mini' }] },
    targets: [
      { name: 'programme-a', sheet: 'Statuses' },
      { name: 'team-b', sheet: 'Team B', output: { sheet: 'Team B results' } },
      { name: 'москва', spreadsheet_id: BOOK_B, sheet: 'Статусы' },
    ],
  }),
  '/tmp/serve-targets.yaml',
  {},
).targets;

const ALICE: Caller = { kind: 'google', email: 'alice@example.com', admin: false };
const MACHINE: Caller = { kind: 'machine' };
const names = (r: ReturnType<typeof resolveTargets>) => (r.ok ? r.targets.map((t) => t.target.name) : r.status);
const ask = (body: Record<string, unknown>) => {
  const parsed = parseRunAsk(body);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.ask;
};

describe('the target of a POST /runs', () => {
  it('maps the spreadsheet and tab (or the results tab) to its target, a name case-insensitively', () => {
    expect(names(resolveTargets(TARGETS, ask({ spreadsheet_id: BOOK_A, sheet: 'Team B' }), ALICE))).toEqual(['team-b']);
    expect(names(resolveTargets(TARGETS, ask({ spreadsheet_id: BOOK_A, sheet: 'Team B results' }), ALICE))).toEqual(['team-b']);
    expect(names(resolveTargets(TARGETS, ask({ spreadsheet_id: BOOK_A, sheet: 'team b' }), ALICE))).toEqual(['team-b']);
    expect(names(resolveTargets(TARGETS, ask({ spreadsheet_id: BOOK_B, sheet: 'Статусы' }), ALICE))).toEqual(['москва']);
    expect(names(resolveTargets(TARGETS, ask({ spreadsheet_id: BOOK_B, sheet: 'Статусы', target: 'МОСКВА' }), ALICE))).toEqual(['москва']);
    expect(names(resolveTargets(TARGETS, ask({ spreadsheet_id: BOOK_B }), MACHINE))).toEqual(['москва']);
    expect(names(resolveTargets(TARGETS, ask({ target: 'МОСКВА' }), MACHINE))).toEqual(['москва']);
    expect(names(resolveTargets(TARGETS, ask({}), MACHINE))).toEqual(['programme-a', 'team-b', 'москва']);
    expect(names(resolveTargets(TARGETS, ask({ spreadsheet_id: BOOK_A }), MACHINE))).toEqual(['programme-a', 'team-b']);
    expect(names(resolveTargets(TARGETS.slice(0, 1), ask({ spreadsheet_id: BOOK_A, sheet: 'Statuses' }), ALICE))).toEqual(['programme-a']);
  });

  it('refuses, saying what to send: a person naming none of several (422), an unknown tab or name (404), a name and a tab that disagree (422)', () => {
    const none = resolveTargets(TARGETS, ask({}), ALICE);
    expect(none).toMatchObject({ ok: false, status: 422 });
    expect(JSON.stringify(none)).not.toContain(BOOK_A);
    const tab = resolveTargets(TARGETS, ask({ spreadsheet_id: BOOK_A, sheet: 'Notes' }), ALICE);
    expect(tab).toMatchObject({ ok: false, status: 404, body: { targets: [{ name: 'programme-a', sheet: 'Statuses' }, { name: 'team-b', sheet: 'Team B' }] } });
    expect(resolveTargets(TARGETS, ask({ target: 'москва', spreadsheet_id: BOOK_A, sheet: 'Statuses' }), ALICE)).toMatchObject({ ok: false, status: 422 });
    // A person names the spreadsheet and the tab they are on: a bare name, or a spreadsheet alone, starts nothing (issue 18).
    for (const body of [{ target: 'москва' }, { spreadsheet_id: BOOK_B }, { target: 'programme-a', spreadsheet_id: BOOK_A }]) {
      const refused = resolveTargets(TARGETS, ask(body), ALICE);
      expect(refused).toMatchObject({ ok: false, status: 422 });
      expect(JSON.stringify(refused)).not.toContain(BOOK_B);
    }
    expect(resolveTargets(TARGETS.slice(0, 1), ask({}), ALICE)).toMatchObject({ ok: false, status: 422 });
    const unknown = resolveTargets(TARGETS, ask({ target: 'nope' }), MACHINE);
    expect(unknown).toMatchObject({ ok: false, status: 404 });
    expect(String(unknown.ok ? '' : unknown.body.error)).toContain('"programme-a", "team-b", "москва"');
    expect(resolveTargets(TARGETS, ask({ rows: ['P-1'] }), MACHINE)).toMatchObject({ ok: false, status: 422 });
    expect(parseRunAsk({ sheet: 'Statuses' })).toMatchObject({ ok: false, error: expect.stringContaining('"sheet" needs "spreadsheet_id"') as unknown });
  });

  it('never throws on random bodies; a person gets one target or a refusal naming no spreadsheet but their own', () => {
    const texts = fc.oneof(fc.constantFrom('programme-a', 'TEAM-B', 'москва', BOOK_A, BOOK_B, 'Statuses', 'Team B', 'Team B results', 'Статусы', ' ', ''), fc.string(), fc.jsonValue());
    const body = fc.dictionary(fc.oneof(fc.constantFrom('target', 'spreadsheet_id', 'sheet', 'rows', 'force'), fc.string()), texts, { maxKeys: 5 });
    fc.assert(
      fc.property(body, fc.boolean(), (raw, person) => {
        const parsed = parseRunAsk(raw);
        if (!parsed.ok) {
          expect(parsed.error.length).toBeGreaterThan(0);
          return;
        }
        const caller = person ? ALICE : MACHINE;
        const resolved = resolveTargets(TARGETS, parsed.ask, caller);
        if (resolved.ok) {
          expect(resolved.targets.length).toBeGreaterThan(0);
          if (person || parsed.ask.rows) expect(resolved.targets).toHaveLength(1);
          // A person runs only the target of the tab their request names.
          if (person) expect(resolved.targets[0]?.sheets.spreadsheet_id).toBe(parsed.ask.spreadsheetId);
          return;
        }
        expect([404, 422]).toContain(resolved.status);
        expect(typeof resolved.body.error).toBe('string');
        // Echoing what the caller sent is no leak; any other spreadsheet's id would be.
        const sent = JSON.stringify(raw);
        if (person) for (const book of [BOOK_A, BOOK_B]) if (!sent.includes(book)) expect(JSON.stringify(resolved.body)).not.toContain(book);
      }),
      { numRuns: 3000 },
    );
  });
});
