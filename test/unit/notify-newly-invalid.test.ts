/**
 * Review of issue 22, at the unit level: which rows are "newly INVALID" and where their
 * links point (ShownCounts.newlyInvalid), and which parts of a webhook URL are redacted
 * (urlSecrets) when a credential is written with '+'.
 */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { ShownCounts } from '../../src/pipeline/shown.js';
import { redact } from '../../src/errors.js';
import { urlSecrets } from '../../src/notify/index.js';
import type { Entry } from '../../src/sheets/index.js';

const entry = (row: number, id: string, verdict: string): Entry => ({ row, id, inputs: { status: 's', comment: 'c', completion_date: '', extra: {} } as unknown as Entry['inputs'], outputs: { verdict, issues: '', suggestion: '', checked_at: '', model: '' }, review: { recheck: '', override: '' } });

it('a row that showed INVALID in any form before is not newly INVALID; the others are named at the row their verdict was written to', () => {
  const shown = new ShownCounts();
  const rows = [entry(2, 'A', 'INVALID (reviewer)'), entry(3, 'B', ' invalid '), entry(4, 'C', 'VALID'), entry(5, 'D', '')];
  shown.read(rows, 0);
  for (const r of rows) shown.queue(r, 'INVALID');
  // Two rows were inserted above C and D during the run: the writer put their verdicts at 6 and 7.
  const written = { rowsWritten: 4, skipped: [] };
  expect(shown.newlyInvalid(written, 10, new Map([[4, 6], [5, 7]]))).toEqual({ count: 2, rows: [{ row: 6, id: 'C' }, { row: 7, id: 'D' }] });
  // Without a move, the row read.
  expect(shown.newlyInvalid(written, 1)).toEqual({ count: 2, rows: [{ row: 4, id: 'C' }] });
});

it('redacts a webhook query value as written, with its "+", and every decoding of it', () => {
  const token = 'Zk9+q2Lr+Vb7Xw3+Tn6Pd0Hs';
  const url = `https://chat.example.com/v1/spaces/AAA/messages?key=AIzaKey123456&token=${token}`;
  const secrets = urlSecrets(url);
  for (const echoed of [token, token.replace(/\+/g, ' '), token.replace(/\+/g, '%2B'), token.replace(/\+/g, '%20')]) {
    expect(redact(`receiver said: invalid token ${echoed}`, secrets), echoed).not.toContain('Zk9');
  }
  // Any query string: urlSecrets never throws, and the URL itself is always among them.
  fc.assert(
    fc.property(fc.string({ maxLength: 60 }), (query) => {
      const text = `https://hooks.example.com/x?${query}`;
      expect(urlSecrets(text)).toContain(text);
    }),
  );
});
