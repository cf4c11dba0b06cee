import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDist } from '../scripts/build.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
let built = false;

/** Builds dist/ (what the bin runs: `npm run build`) once per bench process, so the figure is of the code as it is now. */
export async function buildOnce(): Promise<void> {
  if (built) return;
  await buildDist();
  built = true;
}

export interface CliRun {
  code: number;
  wallMs: number;
  /** The process's own peak resident set, from getrusage at exit. */
  maxRssBytes: number;
  summary: Record<string, unknown>;
}

/**
 * `status-validator run --json` as a user runs it: the compiled bin in a process of its
 * own (no TypeScript loader in its memory). `nodeOptions` go to that node process.
 */
export async function runBuiltCli(configPath: string, env: Record<string, string>, nodeOptions: string[] = []): Promise<CliRun> {
  await buildOnce();
  const dir = mkdtempSync(path.join(tmpdir(), 'sv-rss-'));
  const rssFile = path.join(dir, 'peak-rss');
  try {
    const started = performance.now();
    const child = spawn(process.execPath, [...nodeOptions, '--import', path.join(ROOT, 'bench/peak-rss.mjs'), path.join(ROOT, 'bin/status-validator.js'), 'run', '--config', configPath, '--json'], {
      env: { ...process.env, ...env, PEAK_RSS_FILE: rssFile },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    const wallMs = performance.now() - started;
    // Killed (out of memory, SIGKILL): no exit hook ran and no summary was printed.
    if (!existsSync(rssFile) || out.trim() === '') throw new Error(`the run ended with ${signal ?? `exit ${code}`} before reporting (no peak RSS or no --json summary)`);
    return { code: code ?? -1, wallMs, maxRssBytes: Number(readFileSync(rssFile, 'utf8')), summary: JSON.parse(out) as Record<string, unknown> };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
