/**
 * Issue 11, item 7: safe migrations. Processes opening a new cache file at the same moment
 * all build its schema once (check and upgrade in one BEGIN IMMEDIATE transaction) and all run.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { startBed, type Bed } from '../support/bed.js';
import { REPO_ROOT } from '../support/inspect.js';
import { sampleRows } from '../support/sample-data.js';

let bed: Bed | undefined;
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});

/** A real child process running a test/support script with arguments; its exit code and stderr. */
function child(b: Bed, script: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: REPO_ROOT, env: { ...b.env, PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve, reject) => {
    proc.once('error', reject);
    proc.once('close', (code) => resolve({ code, stderr }));
  });
}

function schemaOf(file: string): { tables: string[]; version: number } {
  const db = new Database(file, { readonly: true });
  try {
    const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as Array<{ name: string }>).map((t) => t.name);
    return { tables, version: db.pragma('user_version', { simple: true }) as number };
  } finally {
    db.close();
  }
}

const TABLES = ['answer_sizes', 'batch_jobs', 'batch_lines', 'calibrations', 'claims', 'embeddings', 'lock_sightings', 'locks', 'overrides', 'provider_fields', 'provider_limits', 'runs', 'verdicts'];

describe('a new cache file', () => {
  it('is created by four processes opening it within a millisecond, and all of them can use it (five fresh files)', { timeout: 90_000 }, async () => {
    bed = await startBed();
    const b = bed;
    for (let attempt = 1; attempt <= 5; attempt++) {
      const file = path.join(b.dir, `fresh-${attempt}.sqlite`);
      // Each process loads the code first, then spins until the same instant and opens the file.
      const at = Date.now() + 1500;
      const results = await Promise.all([1, 2, 3, 4].map(() => child(b, 'test/support/open-cache-at.ts', [String(at), file])));
      for (const result of results) expect(result.code, `attempt ${attempt}:\n${result.stderr}`).toBe(0);
      const schema = schemaOf(file);
      expect(schema.tables).toEqual(TABLES);
      expect(schema.version).toBeGreaterThan(0);
    }
  });

  it('is created by two CLI runs started together, and both run to the end', { timeout: 60_000 }, async () => {
    bed = await startBed({ rows: sampleRows(2) });
    const b = bed;
    const file = path.join(b.dir, 'fresh-cli.sqlite');
    b.setConfig({ cache: { path: file } });
    const at = Date.now() + 2500;
    // Dry runs take no lock: both must get through opening the cache and do the whole run.
    const results = await Promise.all([1, 2].map(() => child(b, 'test/support/cli-at.ts', [String(at), 'run', '--dry-run', '--config', b.configPath])));
    for (const result of results) expect(result.code, result.stderr).toBe(0);
    expect(schemaOf(file).tables).toEqual(TABLES);
  });
});
