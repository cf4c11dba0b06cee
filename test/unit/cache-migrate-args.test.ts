/**
 * `cache migrate`'s refusals of its arguments (issue 21 item 5): each is exit 2 with a
 * message naming what is wrong, decided before any database is contacted (the config's
 * cache.url points at a closed port: reaching it would fail differently, and slowly).
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { main } from '../../src/cli/main.js';
import { baseConfig, deepMerge, writeServiceAccountKey } from '../support/bed.js';

const dir = mkdtempSync(path.join(tmpdir(), 'sv-migrate-args-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeServiceAccountKey(path.join(dir, 'credentials.json'));

const PASSWORD = 's3cret-Pa55word';
const base = baseConfig('http://127.0.0.1:9/', 'http://127.0.0.1:9/v1', dir);

function config(name: string, cache: Record<string, unknown>): string {
  const file = path.join(dir, name);
  writeFileSync(file, stringify(deepMerge(base, { cache })));
  return file;
}

const withUrl = config('pg.yaml', { url: '${DATABASE_URL}' });
const withoutUrl = config('sqlite.yaml', {});
const env = { TEST_OPENAI_KEY: 'sk-test', DATABASE_URL: `postgres://sv:${PASSWORD}@127.0.0.1:9/statusvalidator` };

async function cli(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, env });
  return { code, stdout, stderr };
}

describe('cache migrate refuses bad arguments (exit 2, before contacting any database)', () => {
  it('a config without cache.url: migrate copies INTO cache.url', async () => {
    const old = path.join(dir, 'old-a.sqlite');
    writeFileSync(old, '');
    const result = await cli(['cache', 'migrate', '--config', withoutUrl, '--from', old]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${withoutUrl} has no cache.url`);
    expect(result.stderr).toContain('INTO the PostgreSQL database named by cache.url');
    expect(result.stderr).toContain('Fix: Add cache.url');
  });

  it('a --from that does not exist is named', async () => {
    const missing = path.join(dir, 'no-such-cache.sqlite');
    const result = await cli(['cache', 'migrate', '--config', withUrl, '--from', missing]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`--from ${missing}: no such file.`);
    expect(result.stderr).not.toContain(PASSWORD);
  });

  it('a folder', async () => {
    const folder = path.join(dir, 'a-folder');
    mkdirSync(folder, { recursive: true });
    const result = await cli(['cache', 'migrate', '--config', withUrl, '--from', folder]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`--from ${folder} is a folder`);
  });

  it('a file that is not a SQLite database, empty or not', async () => {
    for (const [name, content] of [['empty.sqlite', ''], ['notes.txt', 'verdicts, runs and all that\n'.repeat(10)]] as const) {
      const file = path.join(dir, name);
      writeFileSync(file, content);
      const result = await cli(['cache', 'migrate', '--config', withUrl, '--from', file]);
      expect(result.code, name).toBe(2);
      expect(result.stderr).toContain(`${file} is not a SQLite database, so not a status-validator cache`);
      expect(result.stderr).toContain("Fix: Pass --from the file your old config's cache.path named");
    }
  });

  it('a SQLite database that is not a cache, left unchanged', async () => {
    const file = path.join(dir, 'other.sqlite');
    const db = new Database(file);
    db.exec('CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT)');
    db.close();
    const result = await cli(['cache', 'migrate', '--config', withUrl, '--from', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${file} is a SQLite database but not a status-validator cache (it has no verdicts table)`);
    const after = new Database(file, { readonly: true });
    expect((after.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((t) => t.name)).toEqual(['things']);
    expect(after.pragma('user_version', { simple: true })).toBe(0);
    after.close();
  });

  it('a cache written by a newer version', async () => {
    const file = path.join(dir, 'newer.sqlite');
    const db = new Database(file);
    db.exec('CREATE TABLE verdicts (key TEXT PRIMARY KEY)');
    db.pragma('user_version = 9999');
    db.close();
    const result = await cli(['cache', 'migrate', '--config', withUrl, '--from', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${file} was written by a newer status-validator (schema 9999`);
  });

  it('--from and --config are both required', async () => {
    const noFrom = await cli(['cache', 'migrate', '--config', withUrl]);
    expect(noFrom.code).toBe(2);
    expect(noFrom.stderr).toContain("required option '--from <file>' not specified");
    const noConfig = await cli(['cache', 'migrate', '--from', 'x.sqlite']);
    expect(noConfig.code).toBe(2);
    expect(noConfig.stderr).toContain("required option '-c, --config <file>' not specified");
  });
});
