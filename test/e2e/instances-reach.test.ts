/**
 * Issue 21 item 4: a PostgreSQL cache the run cannot reach, or that refuses the password,
 * stops it at once with a message naming host and port (exit 1, within 30 s); and the URL's
 * password appears nowhere: not in the output of run, run --json, check-config, runs and
 * runs --json, not in the runs table, not in the sheet (the Runs tab included).
 */
import { describe, expect, it } from 'vitest';
import type { Bed } from '../support/bed.js';
import { closedPort } from '../support/closed-port.js';
import { instancesAfterEach } from '../support/instances.js';
import { sampleRows } from '../support/sample-data.js';

const instances = instancesAfterEach();

async function cli(b: Bed, args: string[], env: NodeJS.ProcessEnv = b.env): Promise<{ code: number | null; out: string; err: string; seconds: number }> {
  const started = Date.now();
  const child = instances.spawn(args, { env });
  const { code } = await child.exited;
  return { code, out: child.stdout(), err: child.stderr(), seconds: (Date.now() - started) / 1000 };
}

/** The password as written in the URL and decoded: neither may show anywhere. */
const forms = (password: string) => [...new Set([password, encodeURIComponent(password)])];

describe('a PostgreSQL cache that will not open', () => {
  it('unreachable at start: exit 1 within 30 s, naming host and port, the password nowhere', { timeout: 60_000 }, async () => {
    const { bed } = await instances.postgresBed({ rows: sampleRows(3) });
    const port = await closedPort();
    const password = 'unreachable-S3cret/pw';
    const env = { ...bed.env, DATABASE_URL: `postgres://sv:${encodeURIComponent(password)}@127.0.0.1:${port}/cache` };
    for (const args of [['run', '--config', bed.configPath], ['run', '--config', bed.configPath, '--json']]) {
      const result = await cli(bed, args, env);
      expect(result.code, result.err).toBe(1);
      expect(result.seconds).toBeLessThan(30);
      expect(result.err).toContain(`Cannot reach the PostgreSQL cache at 127.0.0.1:${port}/cache`);
      expect(result.err).toMatch(/ECONNREFUSED/);
      for (const text of [result.out, result.err]) for (const p of forms(password)) expect(text).not.toContain(p);
    }
    expect(bed.llm.callCount()).toBe(0);
    expect(bed.sheets.writeCount()).toBe(0);
  });

  it('a wrong password: a message that says so, naming user, host and port, never the password', { timeout: 60_000 }, async () => {
    const made = await instances.postgresBed({ rows: sampleRows(3) });
    const { bed } = made;
    const wrong = 'not-the-Passw0rd!';
    const env = { ...bed.env, DATABASE_URL: `postgres://postgres:${encodeURIComponent(wrong)}@127.0.0.1:${made.cluster.port}/${made.database}` };
    for (const args of [['run', '--config', bed.configPath], ['runs', '--config', bed.configPath, '--json']]) {
      const result = await cli(bed, args, env);
      expect(result.code, result.err).toBe(1);
      expect(result.err).toContain(`The PostgreSQL cache at 127.0.0.1:${made.cluster.port}/${made.database} refused the password of user "postgres"`);
      expect(result.err).toMatch(/Check the user and password in cache\.url/);
      for (const text of [result.out, result.err]) for (const p of [...forms(wrong), ...forms(made.cluster.password)]) expect(text).not.toContain(p);
    }
  });
});

describe('the URL\'s password', () => {
  it('appears in no output (run, run --json, check-config, runs, runs --json), not in the runs table, not in the sheet or its Runs tab', { timeout: 90_000 }, async () => {
    const made = await instances.postgresBed({ rows: [...sampleRows(6), ['P-bad', 'Unknown status', 'A comment', '2026-01-01']] });
    const b = made.bed;
    const { cluster, database } = made;
    b.setConfig({ report: { runs_sheet: 'Runs' } });
    const outputs: string[] = [];
    const keep = (r: { out: string; err: string }) => outputs.push(r.out, r.err);
    const first = await cli(b, ['run', '--config', b.configPath]);
    keep(first);
    expect(first.code, first.err).toBe(0);
    const json = await cli(b, ['run', '--config', b.configPath, '--json', '--force']);
    keep(json);
    expect(json.code, json.err).toBe(0);
    const check = await cli(b, ['check-config', '--config', b.configPath]);
    keep(check);
    expect(check.code, check.err).toBe(0);
    for (const args of [['runs', '--config', b.configPath], ['runs', '--config', b.configPath, '--json']]) {
      const runs = await cli(b, args);
      keep(runs);
      expect(runs.code, runs.err).toBe(0);
    }
    // What was looked at is not empty: the runs are listed, the Runs tab has its rows.
    expect(JSON.parse(outputs[outputs.length - 2] ?? '[]')).toHaveLength(2);
    const runsTab = b.sheets.values('sheet-e2e-1', 'Runs');
    expect(runsTab.length).toBe(3);
    const table = JSON.stringify(await cluster.sql('SELECT * FROM runs', [], database));
    const sheet = JSON.stringify([b.values(), runsTab]);
    const where = `127.0.0.1:${cluster.port}`;
    // The run names its cache (its location): that is the most likely place for a password to slip in.
    expect(check.out + check.err + json.out).toContain(where);
    for (const [name, text] of [...outputs.map((o, i) => [`output ${i}`, o] as const), ['runs table', table] as const, ['sheet', sheet] as const]) {
      for (const p of forms(cluster.password)) expect(text, name).not.toContain(p);
    }
  });
});
