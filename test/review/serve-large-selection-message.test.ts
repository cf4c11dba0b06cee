// Review 3 (of the issue 18 fixes), finding: "Recheck selected rows" over a large selection (a
// whole column, Ctrl+A) is refused with a message the person cannot act on.
//
// docs/apps-script.gs sends the ids of every selected row. Past about 900 ids the body passes the
// server's 10,000-byte cap (src/server/http.ts, MAX_BODY) and the answer, shown as is in the
// sheet's alert, is "the body must be at most 10000 bytes": it names neither the rows nor what to
// do, while the same selection of 300 rows gets "select fewer rows" (422, serve.max_rows). The
// project's rule: every failure a user can meet says what happened and what to do.
import { describe, expect, it } from 'vitest';
import { SPREADSHEET_ID, TAB, startBed } from '../support/bed.js';
import { CLIENT_ID, idClaims, startGoogleCerts } from '../support/google-certs.js';
import { sampleRows } from '../support/sample-data.js';
import { closeAfterEach, startServe } from '../support/serve.js';

const later = closeAfterEach();

describe('serve, a person rechecking a selection of 1,500 rows', () => {
  it('is told to select fewer rows, as with 300', async () => {
    const certs = later(await startGoogleCerts());
    const b = later(await startBed({ rows: sampleRows(1500), config: { serve: { allow: ['alice@example.com'], google_client_id: CLIENT_ID, google_certs_url: certs.url } } }));
    const { base } = later(await startServe(b));
    const alice = certs.sign(idClaims('alice@example.com'));
    const recheck = async (count: number) => {
      const rows = sampleRows(count).map((r) => r[0]);
      const res = await fetch(`${base}/runs`, { method: 'POST', headers: { authorization: `Bearer ${alice}` }, body: JSON.stringify({ rows, spreadsheet_id: SPREADSHEET_ID, sheet: TAB }) });
      return { status: res.status, error: String(((await res.json()) as { error?: unknown }).error) };
    };
    const some = await recheck(300);
    const many = await recheck(1500);
    console.log(`300 rows: ${some.status} ${some.error}\n1500 rows: ${many.status} ${many.error}`);
    expect(some.error).toContain('select fewer rows');
    expect(many.error).toContain('select fewer rows');
  }, 30_000);
});
