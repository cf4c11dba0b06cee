/**
 * The CLI as a user runs it: `npm run build` bundles src/ with esbuild (scripts/build.ts), and
 * bin/status-validator.js runs the bundle in a process of its own. What a bundle can break and
 * the in-process tests cannot see: a package that reads files or requires modules at run time,
 * a native module (better-sqlite3), and the lazy chunks of the commands (serve's prom-client,
 * the PostgreSQL store's pg, the tokenizer, the Batch API).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildDist } from '../../scripts/build.js';
import { col, startBed, type Bed } from '../support/bed.js';
import { startPostgres, type PostgresCluster } from '../support/postgres.js';
import { parseExposition } from '../support/prom-text.js';
import { sampleRows } from '../support/sample-data.js';
import { shownVerdicts } from '../support/inspect.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = path.join(ROOT, 'bin/status-validator.js');

interface Ended {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `status-validator ...args` in a child process, as `npx status-validator` runs it. */
function bin(args: string[], env: NodeJS.ProcessEnv): { ended: Promise<Ended>; closed: () => boolean; stdout: () => string; stderr: () => string; kill: (signal: NodeJS.Signals) => void } {
  const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  let closed = false;
  const ended = once(child, 'close').then(([code]) => ((closed = true), { code: code as number | null, stdout, stderr }));
  return { ended, closed: () => closed, stdout: () => stdout, stderr: () => stderr, kill: (signal) => void child.kill(signal) };
}

const binEnded = (args: string[], env: NodeJS.ProcessEnv) => bin(args, env).ended;

let bed: Bed | undefined;
let cluster: PostgresCluster | undefined;
beforeAll(async () => {
  await buildDist();
}, 60_000);
afterEach(async () => {
  await bed?.close();
  bed = undefined;
});
afterAll(() => cluster?.dispose());

describe('the built bin', () => {
  it('prints the version of package.json', async () => {
    const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const result = await binEnded(['--version'], {});
    expect(result).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it('checks a config, estimates (the tokenizer chunk), then runs: every verdict written, exit 0', async () => {
    bed = await startBed({ rows: sampleRows(8) });
    const checked = await binEnded(['check-config', '--config', bed.configPath], bed.env);
    expect(checked.stderr).toBe('');
    expect(checked.stdout).toBe(`${bed.configPath}: OK (1 provider, tab "Statuses")\n`);
    expect(checked.code).toBe(0);

    const estimated = await binEnded(['estimate', '--config', bed.configPath, '--json'], bed.env);
    expect(estimated.code).toBe(0);
    const estimate = JSON.parse(estimated.stdout) as { rows: number; toAsk: number; modes: Array<{ promptTokens: number }> };
    expect(estimate).toMatchObject({ rows: 8, toAsk: 8 });
    expect(estimate.modes[0]?.promptTokens).toBeGreaterThan(8 * 50);
    expect(bed.llm.callCount()).toBe(0);

    const ran = await binEnded(['run', '--config', bed.configPath, '--json'], bed.env);
    expect(ran.code, ran.stderr).toBe(0);
    expect(JSON.parse(ran.stdout)).toMatchObject({ writes: { calls: expect.any(Number) as number } });
    expect(bed.llm.callCount()).toBe(8);
    const verdicts = shownVerdicts(bed);
    expect(verdicts).toHaveLength(8);
    expect(verdicts.every((v) => v === 'VALID' || v === 'INVALID')).toBe(true);
    const values = bed.values();
    expect(values[1]?.[col(values, 'Suggested rewrite')]).toBe(`Rewrite: ${values[1]?.[2] ?? ''}`);
  });

  it('serves Prometheus metrics at GET /metrics (prom-client in the serve chunk) and stops on SIGTERM', async () => {
    bed = await startBed({ rows: sampleRows(2) });
    const served = bin(['serve', '--config', bed.configPath, '--port', '0'], { ...bed.env, STATUS_VALIDATOR_TOKEN: 'machine-token-0123456789abcdef' });
    try {
      const deadline = Date.now() + 20_000;
      while (!/listening on (\S+)/.test(served.stderr() + served.stdout()) && !served.closed() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const base = /listening on (\S+)/.exec(served.stderr() + served.stdout())?.[1];
      expect(base, served.stderr()).toBeDefined();
      const res = await fetch(`${base ?? ''}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const families = parseExposition(await res.text());
      expect(families.get('status_validator_runs_total')?.type).toBe('counter');
      expect(families.get('status_validator_run_duration_seconds')?.type).toBe('histogram');
    } finally {
      served.kill('SIGTERM');
    }
    const ended = await served.ended;
    expect(ended.stderr).not.toMatch(/Error|at .*chunks\//);
  });

  it('runs on a PostgreSQL cache.url (pg from node_modules, through the store chunk)', async () => {
    cluster = await startPostgres();
    const url = await cluster.createDatabase('built_bin');
    bed = await startBed({ rows: sampleRows(5), config: { cache: { path: undefined, url } } });
    const ran = await binEnded(['run', '--config', bed.configPath], bed.env);
    expect(ran.code, ran.stderr).toBe(0);
    expect(shownVerdicts(bed).every((v) => v === 'VALID' || v === 'INVALID')).toBe(true);
    const rows = await cluster.sql<{ n: string }>('SELECT count(*) AS n FROM verdicts', [], new URL(url).pathname.slice(1));
    expect(Number(rows[0]?.n)).toBe(5);
  });

  it('submits a Batch API job and applies its results in a later process', async () => {
    bed = await startBed({ rows: sampleRows(4) });
    const submitted = await binEnded(['batch', 'submit', '--config', bed.configPath], bed.env);
    expect(submitted.code, submitted.stderr).toBe(0);
    const id = /submitted (batch_\S+):/.exec(submitted.stdout)?.[1] ?? '';
    expect(id).not.toBe('');
    await bed.llm.advanceBatch(id, 'completed');
    const applied = await binEnded(['batch', 'results', '--config', bed.configPath], bed.env);
    expect(applied.code, applied.stderr).toBe(0);
    expect(shownVerdicts(bed).filter((v) => v === 'VALID' || v === 'INVALID')).toHaveLength(4);
  });
});
