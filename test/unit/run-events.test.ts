/**
 * The run's counters are fed by events (issue 21): the steps emit, the Tally and the
 * progress reporter listen (test/e2e/run-events.test.ts hears a real run).
 */
import { describe, expect, it } from 'vitest';
import type { Progress } from '../../src/pipeline/index.js';
import { RunEvents, reportProgress, type RunEvent } from '../../src/pipeline/events.js';
import { Tally } from '../../src/pipeline/tally.js';
import type { Entry } from '../../src/sheets/index.js';

const target = { target: { name: 'Statuses', index: undefined }, sheets: { spreadsheet_id: 's', sheet: 'Statuses' } };
const entry = (row: number): Entry => ({ row, id: `r${row}`, inputs: { status: 'Done', comment: `c${row}`, completion_date: '' }, outputs: { verdict: '', issues: '', suggestion: '', checked_at: '', model: '' }, review: { recheck: '', override: '' } });
const usage = { promptTokens: 100, completionTokens: 20, cachedTokens: 40 };

describe('RunEvents', () => {
  it('tells every listener each event, in the order they listened, before emit returns', () => {
    const events = new RunEvents();
    const heard: string[] = [];
    events.on((e) => heard.push(`a:${e.type}`));
    const stop = events.on((e) => heard.push(`b:${e.type}`));
    events.emit({ type: 'sheet-retry' });
    expect(heard).toEqual(['a:sheet-retry', 'b:sheet-retry']);
    stop();
    events.emit({ type: 'connection-failure' });
    expect(heard).toEqual(['a:sheet-retry', 'b:sheet-retry', 'a:connection-failure']);
  });

  it('lets every listener hear an event one of them fails on, then throws that failure', () => {
    const events = new RunEvents();
    const heard: string[] = [];
    events.on(() => {
      throw new Error('listener bug');
    });
    events.on((e) => heard.push(e.type));
    expect(() => events.emit({ type: 'sheet-retry' })).toThrow('listener bug');
    expect(heard).toEqual(['sheet-retry']);
  });
});

describe('the Tally, a listener', () => {
  it('builds the summary counters from the events alone', () => {
    const events = new RunEvents();
    const tally = new Tally('run-1', target, false, new Date('2026-12-04T00:00:00Z'), [], 'cli');
    tally.pricing({ 'gpt-5-mini': { input: 1, cachedInput: 0.1, output: 2, batchDiscount: 0.5 } }, 'gpt-5-mini');
    tally.listen(events);
    const sent: RunEvent[] = [
      { type: 'read', opened: { entries: [entry(2), entry(3), entry(4)], incomplete: [5] } },
      { type: 'asked', provider: 'primary', model: 'gpt-5-mini', usage, billed: 'standard' },
      { type: 'asked', provider: 'primary', model: 'gpt-5-mini', usage, billed: 'standard' },
      { type: 'retried', retry: { provider: 'primary', attempt: 1, reason: '429', waitMs: 10 } },
      { type: 'connection-failure' },
      { type: 'answered', usage },
      { type: 'committed', verdict: 'VALID', rows: 2, unsure: false },
      { type: 'committed', verdict: 'INVALID', rows: 1, unsure: true },
      { type: 'error', entries: [entry(4)], reason: 'the answer was cut off' },
      { type: 'sheet-retry' },
      { type: 'warning', text: 'a warning' },
      { type: 'routed', model: 'gpt-5-mini', questions: 3 },
    ];
    for (const e of sent) events.emit(e);
    const s = tally.finish(new Date('2026-12-04T00:00:01Z'), false);
    expect(s.rows).toMatchObject({ read: 4, incomplete: 1 });
    expect(s.llm).toMatchObject({ calls: 2, retries: 1, connectionFailures: 1, promptTokens: 200, completionTokens: 40, cachedTokens: 80, routing: { 'gpt-5-mini': 3 } });
    expect(s.llm.byModel['gpt-5-mini']?.calls).toBe(2);
    expect(s.verdicts).toEqual({ valid: 2, invalid: 1, error: 1, needsReview: 1 });
    expect(s.errors).toEqual([{ row: 4, id: 'r4', reason: 'the answer was cut off' }]);
    expect(s.writes.sheetRetries).toBe(1);
    expect(s.warnings).toContain('a warning');
    expect(s.status).toBe('completed_with_errors');
  });
});

describe('the progress reporter, a listener', () => {
  it('reports after phases, retries, requests done and flushes, with the Tally having counted the event', () => {
    const events = new RunEvents();
    const tally = new Tally('run-1', target, false, new Date(), [], 'cli');
    tally.listen(events);
    const seen: Array<Pick<Progress, 'phase' | 'retries' | 'answered' | 'rowsWritten'>> = [];
    reportProgress(events, () => tally.progress, (p) => seen.push({ phase: p.phase, retries: p.retries, answered: p.answered, rowsWritten: p.rowsWritten }));
    events.emit({ type: 'phase', phase: 'validating' });
    events.emit({ type: 'retried', retry: { provider: 'primary', attempt: 1, reason: '500', waitMs: 1 } });
    events.emit({ type: 'committed', verdict: 'VALID', rows: 1, unsure: false });
    events.emit({ type: 'request-done' });
    events.emit({ type: 'phase', phase: 'writing' });
    events.emit({ type: 'flushed', rowsWritten: 1 });
    expect(seen).toEqual([
      { phase: 'validating', retries: 0, answered: 0, rowsWritten: 0 },
      { phase: 'validating', retries: 1, answered: 0, rowsWritten: 0 },
      { phase: 'validating', retries: 1, answered: 1, rowsWritten: 0 },
      { phase: 'writing', retries: 1, answered: 1, rowsWritten: 0 },
      { phase: 'writing', retries: 1, answered: 1, rowsWritten: 1 },
    ]);
  });
});
