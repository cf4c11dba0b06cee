/**
 * The run plan (issue 21): the config resolved once per target per run. What it resolves
 * must be exactly what the pieces it replaces derived each time, or a plan would re-ask
 * (a different cache key) or lose a lock (a different lock name).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig } from '../../src/config/index.js';
import { routeModel } from '../../src/llm/index.js';
import { keyerOf, layoutConfigOf, lockNameOf, planOf, primaryModel, promptRulesOf, questionPlanOf, staleAfterOf } from '../../src/pipeline/index.js';
import { semanticScope } from '../../src/pipeline/plan.js';
import type { Entry, RowInputs } from '../../src/sheets/index.js';

const secrets = {
  serviceAccount: { client_email: 'bot@example.iam.gserviceaccount.com', private_key: 'not-a-key' },
  apiKeys: new Map([
    ['primary', 'sk-primary-0123456789'],
    ['backup', 'sk-backup-0123456789'],
  ]),
};

function configOf(extra: Record<string, unknown> = {}) {
  return parseConfig(
    stringify({
      sheets: { spreadsheet_id: '1AbC', sheet: ' Statuses ' },
      columns: { id: 'Project', status: 'Status', comment: 'Comment', inputs: { owner: 'Owner' } },
      output: { write_batch_size: 7 },
      rules: { allowed_statuses: ['Planned', 'Done'], text: 'Say what is next.' },
      review: { min_confidence: 0.8, recheck_older_than: '2d' },
      report: { runs_sheet: 'Runs' },
      llm: {
        providers: [
          { name: 'primary', model: 'gpt-5-mini' },
          { name: 'backup', model: 'gpt-5-nano', base_url: 'http://127.0.0.1:9/v1' },
        ],
      },
      ...extra,
    }),
    '/tmp/c.yaml',
    {},
  );
}

const entryOf = (inputs: RowInputs): Entry => ({ row: 2, id: 'P-1', inputs, outputs: { verdict: '', issues: '', suggestion: '', checked_at: '', model: '' }, review: { recheck: '', override: '' } });
const inputsArb = fc.record({ status: fc.string(), comment: fc.string({ maxLength: 700 }), completion_date: fc.string(), extra: fc.array(fc.string(), { minLength: 1, maxLength: 1 }) });

describe('planOf', () => {
  it('resolves the same keys, rules, layout, models and lock as the config did piece by piece', () => {
    const config = configOf();
    const plan = planOf(config, secrets);
    const keyer = keyerOf(config);
    fc.assert(
      fc.property(inputsArb, (inputs) => {
        expect(plan.keyOf(entryOf(inputs))).toBe(keyer(entryOf(inputs)));
      }),
    );
    expect(plan.rules).toEqual(promptRulesOf(config));
    expect(plan.layout).toEqual(layoutConfigOf(config));
    expect(plan.primaryModel).toBe(primaryModel(config));
    expect(plan.lock.name).toBe(lockNameOf(config));
    expect(plan.lock.label).toBe(`"${config.sheets.sheet}" in 1AbC`);
    expect(plan.staleAfterMs).toBe(staleAfterOf(config, undefined));
    expect(plan.minConfidence).toBe(0.8);
    expect(plan.writeBatchSize).toBe(7);
    expect(plan.runsSheet).toBe('Runs');
    expect(plan.resultsTab).toBeUndefined();
    expect(plan.semantic).toBeUndefined();
  });

  it('keeps the providers in order, each with its own key', () => {
    const plan = planOf(configOf(), secrets);
    expect(plan.providers.map((p) => [p.config.name, p.config.model, p.apiKey])).toEqual([
      ['primary', 'gpt-5-mini', 'sk-primary-0123456789'],
      ['backup', 'gpt-5-nano', 'sk-backup-0123456789'],
    ]);
  });

  it('routes each row as the run asks it, and keys it by that model', () => {
    const routing = { small: 'gpt-5-nano', large: 'gpt-5-mini', threshold: 0.3 };
    const config = configOf({ llm: { routing, providers: [{ name: 'primary', model: 'gpt-5-mini' }] } });
    const plan = questionPlanOf(config);
    const keyer = keyerOf(config);
    fc.assert(
      fc.property(inputsArb, (inputs) => {
        expect(plan.modelOf(inputs)).toBe(routeModel(inputs, routing));
        expect(plan.keyOf(entryOf(inputs))).toBe(keyer(entryOf(inputs)));
      }),
    );
  });

  it("resolves the semantic cache's partition and the results tab only when configured", () => {
    const config = configOf({ cache: { semantic: true, semantic_threshold: 0.95 }, output: { sheet: 'Results' } });
    const plan = planOf(config, secrets);
    expect(plan.semantic).toEqual({ threshold: 0.95, scope: semanticScope(config), headers: ['Owner'] });
    expect(plan.resultsTab).toEqual({ spreadsheetId: '1AbC', tab: 'Results', sourceTab: config.sheets.sheet, idHeader: 'Project', outputs: config.output.columns });
  });
});
