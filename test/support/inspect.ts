/**
 * Helpers for tests that look at what a run left behind: the SQLite cache (read-only),
 * the CLI as a real child process, secret scanning, and the row a request was about.
 * Nothing here changes the code under test; it only observes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { defaultVerdict, extractRow, messageText, ROW_MARKER, type Answer, type ChatRequest, type RowInput } from './openai-emulator/index.js';
import { col, type Bed } from './bed.js';
import type { PendingCall } from './sheets-emulator/index.js';

/** The repository root (the child CLI runs from there, so `tsx` and `src/` resolve). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

// ---------------------------------------------------------------- the cache file

export interface VerdictRow {
  key: string;
  verdict: string;
  issues: string;
  suggestion: string;
  model: string;
  provider: string;
  checked_at: string;
}

export interface RunRow {
  id: string;
  started_at: string;
  ended_at: string | null;
  trigger: string;
  status: string;
  summary: string | null;
}

export interface LockRow {
  name: string;
  run_id: string;
  pid: number;
  host: string;
  /** When the holder's process started (src/cache/process-start.ts); null when unknown. */
  process_start?: string | null;
  started_at: string;
  heartbeat_at: string;
}

function query<T>(file: string, sql: string): T[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

export const cachedVerdicts = (file: string): VerdictRow[] => query<VerdictRow>(file, 'SELECT * FROM verdicts');
export const runRows = (file: string): RunRow[] => query<RunRow>(file, 'SELECT * FROM runs ORDER BY started_at');
export const lockRows = (file: string): LockRow[] => query<LockRow>(file, 'SELECT * FROM locks');

/** Writes a lock row as another process would have left it. */
export function insertLock(file: string, lock: LockRow): void {
  const db = new Database(file, { fileMustExist: true });
  try {
    // process_start only when given: a row as an older version (without that column) writes it.
    const columns = ['name', 'run_id', 'pid', 'host', ...(lock.process_start === undefined ? [] : ['process_start']), 'started_at', 'heartbeat_at'];
    db.prepare(`INSERT OR REPLACE INTO locks (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`).run(lock);
  } finally {
    db.close();
  }
}

/** Notes that a host watched a lock at a given beat since `seen_at` (by that host's clock), as acquireLock does. */
export function insertSighting(file: string, sighting: { name: string; host: string; run_id: string; beat: number; heartbeat_at: string; seen_at: string }): void {
  const db = new Database(file, { fileMustExist: true });
  try {
    db.prepare('INSERT OR REPLACE INTO lock_sightings (name, host, run_id, beat, heartbeat_at, seen_at) VALUES (@name, @host, @run_id, @beat, @heartbeat_at, @seen_at)').run(sighting);
  } finally {
    db.close();
  }
}

/** The raw bytes of the cache and its WAL / shared-memory files, as latin1 text for scanning. */
export function cacheBytes(file: string): string {
  return [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]
    .filter((f) => existsSync(f))
    .map((f) => readFileSync(f).toString('latin1'))
    .join('\n');
}

// ---------------------------------------------------------------- secrets

/** Shapes of secrets that must never show up anywhere, whatever their value. */
const SECRET_SHAPES: ReadonlyArray<[string, RegExp]> = [
  ['a PEM private key', /PRIVATE KEY-----/],
  ['a JWT (a Google bearer token)', /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\./],
  ['a bearer header', /Bearer\s+[A-Za-z0-9._~+/=-]{8,}/i],
];

/**
 * Names of the secrets found in `text`: exact values (and, for long ones such as a PEM
 * key, any 40-character slice of them, to catch a key quoted without its armour) and
 * secret shapes.
 */
export function secretsIn(text: string, secrets: Record<string, string>): string[] {
  const found: string[] = [];
  for (const [name, value] of Object.entries(secrets)) {
    if (text.includes(value)) found.push(name);
    else if (value.length > 80) {
      const body = value.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
      for (let i = 0; i + 40 <= body.length; i += 40) {
        if (text.replace(/\s+/g, '').includes(body.slice(i, i + 40))) {
          found.push(`${name} (a slice)`);
          break;
        }
      }
    }
  }
  for (const [name, shape] of SECRET_SHAPES) if (shape.test(text)) found.push(name);
  return found;
}

// ---------------------------------------------------------------- requests and rows

/** The write check as the Sheets emulator sees it: a developer-metadata entry made and removed in one batchUpdate (src/sheets/write-probe.ts). */
export const isWriteCheck = (call: Pick<PendingCall, 'op' | 'body'>): boolean => call.op === 'batchUpdate' && JSON.stringify(call.body ?? '').includes('"status-validator.write-check.');

/**
 * Slows each write check the Sheets emulator gets by `delayMs` (Google answers a batchUpdate
 * in 100-300 ms, more on a busy day) and lists the other writes sent before `checks` of them
 * had answered (one per target of the run): what a run tried to write before it knew it could.
 */
export function writesBeforeChecks(sheets: Pick<Bed['sheets'], 'onRequest'>, checks: number, delayMs: number): string[] {
  const early: string[] = [];
  let answered = 0;
  sheets.onRequest(async (call) => {
    if (call.kind === 'write' && !isWriteCheck(call) && answered < checks) early.push(`${call.op} ${JSON.stringify(call.ranges ?? call.range ?? '')}`);
    if (!isWriteCheck(call)) return;
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    answered++;
  });
  return early;
}

/**
 * The row a chat request is about, from any user message. The emulator's own
 * `extractRow` reads only the last user message, which after a repair prompt ("that
 * answer could not be used...") no longer holds the row.
 */
export function rowOf(req: Pick<ChatRequest, 'messages'>): RowInput | undefined {
  for (let i = req.messages.length - 1; i >= 0; i--) {
    const message = req.messages[i];
    if (message?.role === 'user' && messageText(message).includes(ROW_MARKER)) return extractRow({ messages: [message] });
  }
  return undefined;
}

export const commentOf = (req: Pick<ChatRequest, 'messages'>): string => String(rowOf(req)?.comment ?? '');

/** The emulator's default model, but reading the row from the whole conversation. */
export const echoVerdict = (_row: RowInput, req: ChatRequest): Answer => defaultVerdict(rowOf(req) ?? {});

export const ALLOWED_STATUSES = ['Planned', 'In progress', 'Done', 'Cancelled'];

/** The verdict and suggestion the emulator's default model plus the bot's status rule give a row [id, status, comment, ...]. */
export function expectedCells(row: readonly string[]): { verdict: string; suggestion: string } {
  const [, status = '', comment = ''] = row;
  const answer = defaultVerdict({ status: status.trim(), comment: comment.trim() });
  const allowed = ALLOWED_STATUSES.some((s) => s.toLowerCase() === status.trim().toLowerCase());
  return { verdict: answer.is_valid && allowed ? 'VALID' : 'INVALID', suggestion: answer.rewrite_suggestion.trim() };
}

// ---------------------------------------------------------------- the CLI as a child process

export interface Child {
  process: ChildProcess;
  pid: number;
  stdout: () => string;
  stderr: () => string;
  /** Resolves once the process has exited and been reaped. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `status-validator run --config <bed config> ...extra` in a real child process, with the bed's environment. */
export function spawnRun(bed: Bed, ...extra: string[]): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'run', '--config', bed.configPath, ...extra], {
    cwd: REPO_ROOT,
    env: { ...bed.env, PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return captured(child, 'the CLI');
}

/** A spawned process (stdio 'pipe' for stdout and stderr) as a Child: its output kept, its exit awaited. */
export function captured(child: ChildProcess, what: string): Child {
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  if (child.pid === undefined) throw new Error(`could not spawn ${what}`);
  return { process: child, pid: child.pid, stdout: () => out, stderr: () => err, exited };
}

/** The pid of a process that has exited (and been reaped): nothing runs under it now. */
export async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  const pid = child.pid;
  await new Promise((resolve) => child.once('close', resolve));
  if (pid === undefined) throw new Error('could not spawn a process');
  return pid;
}

/** The child's exit, or 'hung' when it has not exited within `ms` (it is left running: the caller stops it). */
export async function exitedWithin(child: Child, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null } | 'hung'> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), ms)));
  try {
    return await Promise.race([child.exited, hung]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls until `check` is true; throws after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Like waitFor, but fails at once (with its stderr) if the child exits first, and shows its stderr on a timeout. */
export async function waitForChild(child: Child, what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  let done = false;
  const exitedFirst = child.exited.then((exit) => {
    if (!done) throw new Error(`the CLI exited (${exit.code ?? exit.signal}) before ${what}:\n${child.stderr()}`);
  });
  try {
    await Promise.race([waitFor(what, check, timeoutMs), exitedFirst]);
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\nCLI stderr:\n${child.stderr()}`, { cause: error });
  } finally {
    done = true;
  }
}

/** A small seeded PRNG (mulberry32), so a failing random schedule can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A live process of this host that is not a run: its pid makes a lock look held by
 * someone alive. Killed by the cleanup it pushes; resolves once its pid is known.
 */
export async function liveStranger(cleanups: Array<() => Promise<unknown>>): Promise<number> {
  const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  const exited = new Promise((resolve) => sleeper.once('close', resolve));
  cleanups.push(async () => {
    sleeper.kill('SIGKILL');
    await exited;
  });
  await waitFor('the sleeper to start', () => sleeper.pid !== undefined);
  return sleeper.pid ?? -1;
}

/** The Validation column of the bed's tab, row by row below the header (what a person sees of the verdicts). */
export function shownVerdicts(b: Bed): string[] {
  const values = b.values();
  return values.slice(1).map((r) => r[col(values, 'Validation')] ?? '');
}
