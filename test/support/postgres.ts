/**
 * A throwaway PostgreSQL cluster for tests (issue 21 item 7): a real server, no mocks, since the
 * lock and fault tests need several processes and a server that can be stopped and killed.
 *
 * Cost: `initdb` takes seconds (it builds three databases), so it runs once per machine into a
 * template directory (os.tmpdir(), per PostgreSQL major version and user), built in a scratch
 * directory and renamed into place so concurrent workers never see half of one. Each test file
 * then copies the template and starts its own cluster from it (`cp -a` + `pg_ctl start`: about
 * half a second), and each test asks that cluster for a fresh database (CREATE DATABASE, tens of
 * milliseconds). A cluster per file rather than one per vitest run: vitest isolates test files
 * (a module-level singleton does not outlive its file), and a globalSetup would start a server
 * for every `vitest run` of any file, PostgreSQL or not; a file of its own also lets fault tests
 * stop, restart and kill their server without disturbing another file's.
 *
 * initdb and the server refuse to run as root: as root, every PostgreSQL binary runs as the
 * `postgres` user (runuser, or su), in directories that user owns. fsync is off: a test cluster
 * survives no power loss, and never needs to; synchronous_commit stays on, since a commit must
 * survive the server process being killed (the page cache keeps what was written), as the
 * fault tests check.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync, appendFileSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';

/** The directory holding initdb, pg_ctl and postgres: Debian's /usr/lib/postgresql/<major>/bin (highest major), else PATH. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const majors = readdirSync(root)
      .filter((v) => /^\d+$/.test(v) && existsSync(path.join(root, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (majors[0]) return path.join(root, majors[0], 'bin');
  }
  const found = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  return found.status === 0 && found.stdout.trim() ? path.dirname(found.stdout.trim()) : undefined;
}

const asRoot = process.getuid?.() === 0;
const RUNUSER = ['/usr/sbin/runuser', '/sbin/runuser', '/usr/bin/runuser'].find((p) => existsSync(p));

/** Runs a command as the postgres user when we are root (initdb refuses root), else as ourselves. */
function runAs(command: string, args: readonly string[]): string {
  if (!asRoot) return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (RUNUSER) return execFileSync(RUNUSER, ['-u', 'postgres', '--', command, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const quoted = [command, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return execFileSync('su', ['postgres', '-s', '/bin/sh', '-c', quoted], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A directory the server's user owns. */
function ownedTempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  if (asRoot) execFileSync('chown', ['postgres:postgres', dir]);
  return dir;
}

function bin(name: string): string {
  const dir = postgresBinDir();
  if (!dir) throw new Error('No PostgreSQL server binaries (initdb) found: install Debian\'s `postgresql` package (.ci/run does).');
  return path.join(dir, name);
}

interface Template {
  dir: string;
  password: string;
}

/** The initdb'd data directory every cluster is copied from, built once per machine. */
function template(): Template {
  const major = path.basename(path.dirname(path.dirname(bin('initdb'))));
  const dir = path.join(tmpdir(), `sv-pg-template-v2-${major}-${process.getuid?.() ?? 0}`);
  const passwordFile = path.join(dir, 'test-password');
  if (!existsSync(passwordFile)) {
    const scratch = ownedTempDir('sv-pg-build-');
    const password = randomBytes(12).toString('hex');
    const pwfile = path.join(scratch, 'pw');
    writeFileSync(pwfile, password, { mode: 0o644 });
    const data = path.join(scratch, 'data');
    runAs(bin('initdb'), ['-D', data, '-U', 'postgres', '--auth-local=scram-sha-256', '--auth-host=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']);
    // The data directory is the template; the password sits beside it (test-only, written last: its presence means "complete").
    rmSync(pwfile);
    appendFileSync(
      path.join(data, 'postgresql.conf'),
      ['', "listen_addresses = '127.0.0.1'", 'fsync = off', 'full_page_writes = off', 'max_connections = 200', "password_encryption = 'scram-sha-256'", ''].join('\n'),
    );
    writeFileSync(path.join(data, 'test-password'), password, { mode: 0o644 });
    try {
      renameSync(data, dir);
    } catch {
      // Another worker won the race: its template serves as well.
    }
    rmSync(scratch, { recursive: true, force: true });
  }
  return { dir, password: readFileSync(passwordFile, 'utf8').trim() };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface PostgresCluster {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly user: 'postgres';
  readonly password: string;
  /** The folder holding the server's Unix socket (.s.PGSQL.<port>): what Cloud SQL's /cloudsql/PROJECT:REGION:INSTANCE is on Cloud Run. */
  readonly socketDir: string;
  /** postgres://postgres:PASSWORD@127.0.0.1:PORT/<database> */
  url(database?: string): string;
  /** A new, empty database on this cluster; its URL. */
  createDatabase(prefix?: string): Promise<string>;
  /** Runs SQL as the superuser (tests' own checks and faults: pg_terminate_backend etc.). */
  sql<T extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[], database?: string): Promise<T[]>;
  /** `pg_ctl stop -m fast` (mode `immediate`: a crash). */
  stop(mode?: 'fast' | 'immediate'): void;
  start(): void;
  restart(mode?: 'fast' | 'immediate'): void;
  /** SIGKILL of the postmaster: the server dies without a word to its clients. */
  kill(): void;
  /** Stops the server and removes its directory. */
  dispose(): void;
}

let counter = 0;

/** Alive and not a zombie. */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] !== 'Z';
  } catch {
    return false;
  }
}

/** The pids whose parent is `pid` (from /proc). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Field 4 (ppid) follows the command in parentheses, which may itself hold spaces.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // Exited while we looked.
    }
  }
  return out;
}

/** Starts a cluster of its own (a copy of the template) on a free port of 127.0.0.1. */
export async function startPostgres(): Promise<PostgresCluster> {
  const { dir: templateDir, password } = template();
  const root = ownedTempDir('sv-pg-');
  const data = path.join(root, 'data');
  runAs('cp', ['-a', templateDir, data]);
  const port = await freePort();
  const log = path.join(root, 'server.log');
  const options = `-p ${port} -k ${root}`;
  const ctl = (args: string[]) => runAs(bin('pg_ctl'), ['-D', data, '-l', log, '-w', '-t', '30', ...args]);
  const start = () => ctl(['-o', options, 'start']);
  start();
  let disposed = false;
  const dispose = () => {
    if (disposed) return;
    disposed = true;
    try {
      ctl(['-m', 'immediate', 'stop']);
    } catch {
      // Already stopped (a fault test), or killed.
    }
    rmSync(root, { recursive: true, force: true });
  };
  // A test run cut short still stops its server.
  process.once('exit', dispose);
  const url = (database = 'postgres') => `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  const sql = async <T extends pg.QueryResultRow>(text: string, values: unknown[] = [], database = 'postgres'): Promise<T[]> => {
    const client = new pg.Client({ connectionString: url(database), connectionTimeoutMillis: 10_000 });
    client.on('error', () => {});
    await client.connect();
    try {
      return (await client.query<T>(text, values)).rows;
    } finally {
      await client.end().catch(() => {});
    }
  };
  return {
    host: '127.0.0.1',
    port,
    user: 'postgres',
    password,
    socketDir: root,
    url,
    sql,
    async createDatabase(prefix = 'test') {
      const name = `${prefix.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${process.pid}_${++counter}`;
      await sql(`CREATE DATABASE ${name}`);
      return url(name);
    },
    stop: (mode = 'fast') => void ctl(['-m', mode, 'stop']),
    start: () => void start(),
    restart: (mode = 'fast') => void ctl(['-m', mode, '-o', options, 'restart']),
    kill: () => {
      // The postmaster and its backends, by id (a backend left running would keep the shared memory and refuse the next start).
      const pid = Number(readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      const family = [pid, ...childrenOf(pid)];
      for (const p of family) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      // Wait until they are gone (or zombies: no parent here reaps them), then drop the pid file a
      // crash leaves behind: a zombie's pid still answers kill(pid, 0), and the next start would
      // take it for a running server.
      const deadline = Date.now() + 5_000;
      while (family.some((p) => isRunning(p)) && Date.now() < deadline) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      runAs('rm', ['-f', path.join(data, 'postmaster.pid'), path.join(root, `.s.PGSQL.${port}.lock`), path.join(root, `.s.PGSQL.${port}`)]);
    },
    dispose: () => {
      process.removeListener('exit', dispose);
      dispose();
    },
  };
}
