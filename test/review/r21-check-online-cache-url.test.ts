/**
 * Review of issue 21 (cache.url): README "Checking a config online" promises that
 * `check-config --online` "contacts what a run will contact" and exits 1 when something
 * could not be checked (a service that cannot be reached), 2 for a problem to fix. A run
 * on cache.url contacts the PostgreSQL server first and exits 1 when it cannot reach it or
 * its password is refused; `check-config --online` never contacts it: it prints its checks
 * of the sheet and the provider and exits 0 ("everything checked and fine"), so the user
 * deploys a config whose every run then fails at once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startBed, type Bed } from '../support/bed.js';
import { closedPort } from '../support/closed-port.js';
import { testCluster } from '../support/postgres-store.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

const PASSWORD = 'Wr0ng/pa:ss@word#7';

describe('check-config --online with cache.url', () => {
  it('an unreachable database server: exit 1 naming its host and port, as the run that would fail', async () => {
    const port = await closedPort();
    bed = await startBed({ rows: sampleRows(3), config: { cache: { url: '${DATABASE_URL}' } } });
    bed.env.DATABASE_URL = `postgres://app:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/cache`;
    const run = await bed.run();
    expect(run.code).toBe(1);
    const checked = await bed.cli(['check-config', '--config', bed.configPath, '--online']);
    const text = checked.stdout + checked.stderr;
    expect(text).toContain(`127.0.0.1:${port}`);
    expect(checked.code).toBe(1);
    for (const form of [PASSWORD, encodeURIComponent(PASSWORD)]) expect(text).not.toContain(form);
  }, 120_000);

  it('a password the server refuses: a problem to fix (exit 2) that names cache.url, never the password', async () => {
    const cluster = await testCluster();
    bed = await startBed({ rows: sampleRows(3), config: { cache: { url: '${DATABASE_URL}' } } });
    bed.env.DATABASE_URL = `postgres://postgres:${encodeURIComponent(PASSWORD)}@127.0.0.1:${cluster.port}/postgres`;
    const run = await bed.run();
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/password/);
    const checked = await bed.cli(['check-config', '--config', bed.configPath, '--online']);
    const text = checked.stdout + checked.stderr;
    expect(text).toMatch(/cache\.url/);
    expect(text).toMatch(/password/);
    expect(checked.code).toBe(2);
    for (const form of [PASSWORD, encodeURIComponent(PASSWORD)]) expect(text).not.toContain(form);
  }, 120_000);
});
