/**
 * Several instances of the bot on one PostgreSQL cache (issue 21 item 7): the real CLI in
 * child processes, each on a host name of its own (a UTS namespace: `unshare --uts`, then
 * `hostname`), in a working directory of its own, sharing one `cache.url`. The emulators stay
 * in the test's process; the cluster is the test file's own (./postgres-store.ts).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach } from 'vitest';
import { startBed, type Bed, type BedOptions } from './bed.js';
import { captured, REPO_ROOT, type Child } from './inspect.js';
import { testCluster } from './postgres-store.js';
import type { RecordedRequest } from './openai-emulator/index.js';
import type { PostgresCluster } from './postgres.js';

const TSX = path.join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs');
const CLI = path.join(REPO_ROOT, 'src', 'cli', 'index.ts');
/** Loads the CLI, then waits for an instant before running it (./cli-at.ts): processes started together then race for real. */
const CLI_AT = path.join(REPO_ROOT, 'test', 'support', 'cli-at.ts');

let unshareChecked = false;

/** The working directories made here for this test file's children: removed once its tests are done (its children stopped by then). */
const made: string[] = [];
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/**
 * A new, empty directory under the OS temp folder for a child to work in (a fresh
 * container's), removed after the test file's tests: the tests may look into it once the
 * child exited (sqliteFilesIn), never after.
 */
export function scratchDir(prefix = 'sv-instance-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/**
 * Fails loudly (never skips) when this machine cannot give a process a host name of its own:
 * the test of "the loser names the holder's host" means nothing on one host name.
 */
export function requireUnshare(): void {
  if (unshareChecked) return;
  const probe = spawnSync('unshare', ['--uts', 'sh', '-c', 'hostname sv-probe-host && hostname'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0 || probe.stdout.trim() !== 'sv-probe-host') {
    throw new Error(`these tests need \`unshare --uts\` (util-linux) and the right to use it (root, or CAP_SYS_ADMIN): ${probe.error?.message ?? probe.stderr.trim()}`);
  }
  unshareChecked = true;
}

export interface CliOptions {
  /** The host name the process sees (os.hostname()): a UTS namespace of its own. */
  host?: string;
  /** Its working directory (default: a new, empty temporary directory). */
  cwd?: string;
  env: NodeJS.ProcessEnv;
  /** Run the command at this instant (epoch ms), once loaded. */
  at?: number;
}

/** `status-validator ...args` in a child process; its stdout and stderr captured. */
export function spawnCli(args: readonly string[], options: CliOptions): Child & { cwd: string } {
  const cwd = options.cwd ?? scratchDir();
  const node = [process.execPath, '--import', TSX, ...(options.at === undefined ? [CLI] : [CLI_AT, String(options.at)]), ...args];
  let command: string;
  let argv: string[];
  if (options.host !== undefined) {
    requireUnshare();
    // exec: the node process replaces the shell, so a signal sent to the child reaches the CLI itself.
    command = 'unshare';
    argv = ['--uts', 'sh', '-c', `hostname "$0" && exec "$@"`, options.host, ...node];
  } else {
    [command, ...argv] = node as [string, ...string[]];
  }
  const child = spawn(command, argv, { cwd, env: { ...options.env, PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  return { ...captured(child, command), cwd };
}

/** A bed whose config names a fresh database of this file's cluster as `cache.url` (no `cache.path`). */
export async function postgresBed(options: BedOptions = {}): Promise<{ bed: Bed; cluster: PostgresCluster; url: string; database: string }> {
  const cluster = await testCluster();
  const url = await cluster.createDatabase('instances');
  const bed = await startBed(options);
  bed.setConfig({ cache: { path: undefined, url: '${DATABASE_URL}' } });
  // The URL reaches the CLI as the README says to pass it: an environment variable.
  bed.env.DATABASE_URL = url;
  return { bed, cluster, url, database: url.split('/').pop() ?? '' };
}

/** Sheets quotas no test of several instances should wait on. */
export const FAST_SHEETS = { read_quota_per_minute: 100_000, write_quota_per_minute: 100_000 };

/** A chat completion the emulator was asked for. */
export const isChat = (r: RecordedRequest): boolean => r.path === '/v1/chat/completions';
/** An answer the emulator sent in full: the process received it (or dies with it in its buffers). */
export const delivered = (r: RecordedRequest): boolean => isChat(r) && r.status === 200 && r.endedAt !== undefined;

export interface Instances {
  /** spawnCli, the child SIGKILLed after the test if still running. */
  spawn(args: readonly string[], options: CliOptions): Child & { cwd: string };
  /** postgresBed, the bed closed after the test (once the children are stopped). */
  postgresBed(options?: BedOptions): ReturnType<typeof postgresBed>;
}

/**
 * Registers the afterEach of a test file of several instances: every child spawned through the
 * returned `spawn` is stopped, then the bed made through its `postgresBed` is closed.
 */
export function instancesAfterEach(): Instances {
  const children: Child[] = [];
  let bed: Bed | undefined;
  afterEach(async () => {
    await stopAll(children);
    await bed?.close();
    bed = undefined;
  });
  return {
    spawn(args, options) {
      const child = spawnCli(args, options);
      children.push(child);
      return child;
    },
    async postgresBed(options) {
      const made = await postgresBed(options);
      bed = made.bed;
      return made;
    },
  };
}

/** Every SQLite file (and its WAL) under `dir`: a run on cache.url makes none. */
export function sqliteFilesIn(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => /\.sqlite(-wal|-shm|-journal)?$/.test(f));
}

/** Kills what is still running (afterEach), by pid, and waits for it. */
export async function stopAll(children: Array<Pick<Child, 'process' | 'exited'>>): Promise<void> {
  for (const child of children) if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
  await Promise.all(children.map((c) => c.exited.catch(() => undefined)));
  children.length = 0;
}

/** The comments whose verdict the database holds (the emulator's default model answers "Rewrite: " + the comment). */
export async function committedComments(cluster: PostgresCluster, database: string): Promise<Set<string>> {
  const rows = await cluster.sql<{ suggestion: string }>('SELECT suggestion FROM verdicts', [], database);
  return new Set(rows.map((r) => r.suggestion.replace(/^Rewrite: /, '')));
}

/** The runs table, oldest first. */
export async function runsIn(cluster: PostgresCluster, database: string): Promise<Array<{ id: string; status: string; trigger: string; summary: string | null; request: string | null }>> {
  return cluster.sql('SELECT id, status, trigger, summary, request FROM runs ORDER BY seq', [], database);
}

/**
 * Invariant 2 watched at every write to the sheet: once a write is served, each suggestion
 * the tab shows must be in the database. A check while the database is down waits for it
 * (what was committed before the write is there when it is back). `violations` names the
 * suggestions shown but not committed; `checks` counts the writes looked at.
 */
export function watchShownCommitted(bed: Bed, cluster: PostgresCluster, database: string): { violations: string[]; checks: () => number; stop: () => void } {
  const violations: string[] = [];
  let checks = 0;
  const stop = bed.sheets.onResponse(async (call) => {
    if (call.kind !== 'write' || call.status !== 200) return;
    const values = bed.values();
    const column = values[0]?.indexOf('Suggested rewrite') ?? -1;
    if (column < 0) return;
    const shown = values.slice(1).map((r) => r[column] ?? '').filter((s) => s !== '');
    let stored: Set<string> | undefined;
    for (const until = Date.now() + 60_000; stored === undefined && Date.now() < until; ) {
      try {
        stored = new Set((await cluster.sql<{ suggestion: string }>('SELECT suggestion FROM verdicts', [], database)).map((r) => r.suggestion.trim()));
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    if (stored === undefined) throw new Error('the database stayed down for a minute while a write was checked');
    checks++;
    for (const s of shown) if (!stored.has(s)) violations.push(s);
  });
  return { violations, checks: () => checks, stop };
}
