/**
 * The parts of `check-config --online` that read outside input: a header row (any cells
 * a person typed) against the configured headers, and an error's cause chain.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig, type Config } from '../../src/config/index.js';
import { checkHeaders, networkCause, renderFindings, wantedHeaders } from '../../src/doctor/index.js';
import { normalizeHeader } from '../../src/sheets/index.js';

const BASE = parseConfig(
  stringify({
    sheets: { spreadsheet_id: 'abc', sheet: 'Statuses' },
    columns: { id: 'Project', status: 'Status', comment: 'Comment' },
    rules: { text: 'Say what was done.' },
    llm: { providers: [{ name: 'p', model: 'gpt-5-mini' }] },
  }),
  '/tmp/c.yaml',
  {},
);

function withColumns(columns: Config['columns']): Config {
  return { ...BASE, columns };
}

const POOL = ['Project', 'Status', 'Comment', 'Comments', 'Due date', 'Validation', 'Issues', 'project ', ' STATUS', 'Статус', 'Ä', ''];
const cell = fc.oneof(fc.constantFrom(...POOL), fc.string({ maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 6 }));
const header = fc.oneof(fc.constantFrom(...POOL.filter((p) => p.trim() !== '')), fc.string({ minLength: 1, maxLength: 10 }).filter((s) => s.trim() !== ''));

describe('checkHeaders', () => {
  it('never throws on any header row, and gives every input header exactly one finding', () => {
    fc.assert(
      fc.property(fc.array(cell, { maxLength: 12 }), header, header, header, (row, id, status, comment) => {
        const config = withColumns({ id, status, comment });
        const findings = checkHeaders(config, 'tab "Statuses"', row);
        for (const key of ['columns.id', 'columns.status', 'columns.comment']) {
          const mine = findings.filter((f) => f.field === key);
          expect(mine.length, key).toBe(1);
        }
        expect(() => renderFindings(findings)).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });

  it('finds a header present once (as the run folds it) ok, and one absent a problem', () => {
    fc.assert(
      fc.property(fc.array(cell, { maxLength: 10 }), header, (row, wanted) => {
        const count = row.filter((c) => c.trim() !== '' && normalizeHeader(c) === normalizeHeader(wanted)).length;
        const findings = checkHeaders(withColumns({ comment: wanted }), 's', row).filter((f) => f.field === 'columns.comment');
        expect(findings[0]?.level).toBe(count === 1 ? 'ok' : 'problem');
      }),
      { numRuns: 300 },
    );
  });

  it('lists the output columns the run will add as one info line, and a near miss as a warning', () => {
    const findings = checkHeaders(BASE, 's', ['Project', 'Status', 'Comment', 'Isues']);
    const info = findings.filter((f) => f.level === 'info');
    expect(info).toHaveLength(1);
    expect(info[0]?.what).toContain('"Validation", "Suggested rewrite", "Checked at", "Model" are not in row 1');
    expect(findings.find((f) => f.level === 'warn')).toMatchObject({ field: 'output.columns.issues', fix: 'Set output.columns.issues to "Isues" to use the existing column, or leave it to get a new one.' });
  });

  it('asks for the data tab headers only in results-tab mode', () => {
    const config: Config = { ...BASE, output: { ...BASE.output, sheet: 'Results' } };
    expect(wantedHeaders(config).map((w) => w.key)).toEqual(['columns.id', 'columns.status', 'columns.comment']);
  });
});

describe('networkCause', () => {
  const chain = (code: string) => Object.assign(new Error('Connection error.'), { cause: Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('boom'), { code }) }) });

  it('calls a refused connection, an unknown host and a failed TLS handshake definite answers about the endpoint', () => {
    expect(networkCause(chain('ECONNREFUSED'))).toEqual({ definite: true, text: 'connection refused (nothing listens on that port) [ECONNREFUSED]' });
    expect(networkCause(chain('ENOTFOUND')).text).toContain('the host name does not resolve (DNS)');
    expect(networkCause(chain('ERR_SSL_WRONG_VERSION_NUMBER')).text).toContain('the TLS handshake failed');
    expect(networkCause(chain('CERT_HAS_EXPIRED')).definite).toBe(true);
    const happyEyeballs = Object.assign(new AggregateError([Object.assign(new Error('a'), { code: 'ECONNREFUSED' })]), {});
    expect(networkCause({ cause: happyEyeballs }).definite).toBe(true);
  });

  it('calls a temporary DNS failure or a reset the network, not the config', () => {
    expect(networkCause(chain('EAI_AGAIN'))).toEqual({ definite: false, text: 'the connection failed [EAI_AGAIN]' });
    expect(networkCause(chain('ECONNRESET')).definite).toBe(false);
  });

  it('never throws nor loops, whatever the error is made of', () => {
    const cyclic: { cause?: unknown; code: string } = { code: 'X' };
    cyclic.cause = cyclic;
    expect(networkCause(cyclic).definite).toBe(false);
    fc.assert(fc.property(fc.anything({ withNullPrototype: true, withMap: true }), (value) => void networkCause(value)));
  });
});
