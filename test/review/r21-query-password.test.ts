/**
 * Review of issue 21 item 4 ("The URL's password never appears anywhere: logs, errors, runs,
 * the Runs tab, check-config, --json") and invariant 7. A PostgreSQL connection URI may carry
 * its password as a query parameter, `postgres://user@host:5432/db?password=...` (libpq:
 * https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING-URIS, "any of
 * the connection parameters may be given as query parameters"; node-postgres reads it too, and
 * the README's own Cloud SQL form puts `host=` in the query). The run connects with it; but the
 * password is looked for only in the URL's user info (cacheUrlSecrets, displayCacheUrl), so
 * `check-config` prints it in full, and redact() is never told of it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startBed, type Bed } from '../support/bed.js';
import { testCluster } from '../support/postgres-store.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

describe('cache.url with its password as a query parameter', () => {
  it('works for a run, and check-config never shows the password', async () => {
    const cluster = await testCluster();
    const database = (await cluster.createDatabase('querypw')).split('/').pop() ?? '';
    bed = await startBed({ rows: sampleRows(3), config: { cache: { url: '${DATABASE_URL}' } } });
    bed.env.DATABASE_URL = `postgres://postgres@127.0.0.1:${cluster.port}/${database}?password=${encodeURIComponent(cluster.password)}`;
    const run = await bed.run('--json');
    expect(run.code, run.stderr).toBe(0);
    for (const args of [['check-config', '--config', bed.configPath], ['check-config', '--config', bed.configPath, '--online']]) {
      const checked = await bed.cli(args);
      const text = checked.stdout + checked.stderr;
      expect(text, args.join(' ')).not.toContain(cluster.password);
    }
  }, 120_000);
});
