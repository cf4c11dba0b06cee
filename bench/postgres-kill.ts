import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { API_KEY } from '../test/support/bed.js';
import type { PostgresCluster } from '../test/support/postgres.js';
import { sampleRows } from '../test/support/sample-data.js';
import { buildOnce } from './built-cli.js';
import { benchEnv, type BenchEnv, type Figure } from './lib.js';

/** The compiled bin, as a user (or a container) starts it: no TypeScript loader in the figure. */
const CLI = fileURLToPath(new URL('../bin/status-validator.js', import.meta.url));
/** Slow answers and 2 workers: the holder is mid-run, its calls in flight, when it is killed. */
const LATENCY_MS = 3_000;
const WORKERS = 2;
/** How many times the next instance is started again if it finds the lock still held (exit 4), as a scheduler would. */
const ATTEMPTS = 10;

interface Instance {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

function startInstance(env: BenchEnv): Instance {
  const child = spawn(process.execPath, [CLI, 'run', '--config', env.configPath], { env: { ...process.env, TEST_OPENAI_KEY: API_KEY }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, stderr: () => err, exited };
}

/** Chat requests recorded from index `from` on (the emulator records them in arrival order). */
function chatsSince(env: BenchEnv, from: number) {
  return env.llm.requests.slice(from).filter((r) => r.path.endsWith('/chat/completions'));
}

async function until<T>(what: string, timeoutMs: number, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`B15 kill: ${what} did not happen within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * B15c: a `run` holding a tab's lock on PostgreSQL is SIGKILLed mid-run; a second instance is
 * started at once. Measured: seconds from the SIGKILL to that instance's first LLM call. The
 * ideal is the same instance's start-to-first-call with the lock free (process start, config,
 * connection, read of the sheet): what a dead holder adds is the difference. The kernel closes
 * the killed process's socket, PostgreSQL ends its session and with it the advisory lock.
 */
export async function holderKillToFirstCall(cluster: PostgresCluster): Promise<Figure[]> {
  const env = await benchEnv({ rows: sampleRows(200), llm: { latencyMs: { mean: LATENCY_MS, jitter: 0 } }, config: { llm: { max_workers: WORKERS }, cache: { url: await cluster.createDatabase('kill') } } });
  const started: Instance[] = [];
  await buildOnce();
  try {
    // The holder, started with the lock free: its start-to-first-call is the ideal.
    const holderStart = Date.now();
    const holder = startInstance(env);
    started.push(holder);
    const first = await until('the holder asking', 30_000, () => chatsSince(env, 0)[0]);
    const baselineMs = first.startedAt - holderStart;
    // Killed right after its workers' calls arrived: none of its requests can arrive after the kill (the next wave is LATENCY_MS away).
    await until('the holder filling its workers', 30_000, () => (chatsSince(env, 0).length >= WORKERS ? true : undefined));
    const killedAt = Date.now();
    holder.child.kill('SIGKILL');
    const recordedBeforeKill = env.llm.requests.length;
    let attempts = 0;
    let next: Instance | undefined;
    let firstCall: number | undefined;
    while (firstCall === undefined && attempts < ATTEMPTS) {
      attempts++;
      next = startInstance(env);
      started.push(next);
      const current = next;
      let exitCode: number | null | undefined;
      void current.exited.then((code) => (exitCode = code));
      firstCall = await until('the next instance asking or exiting', 60_000, () => {
        const call = chatsSince(env, recordedBeforeKill)[0];
        if (call) return call.startedAt;
        return exitCode !== undefined ? Number.NaN : undefined;
      });
      if (Number.isNaN(firstCall)) {
        if (exitCode !== 4) throw new Error(`B15 kill: the next instance exited ${exitCode} before asking: ${current.stderr().slice(-500)}`);
        firstCall = undefined;
      }
    }
    if (firstCall === undefined || !next) throw new Error(`B15 kill: no instance got the lock in ${ATTEMPTS} attempts`);
    const took = /took over the lock[^\n]*/.exec(next.stderr())?.[0];
    return [
      {
        name: 'B15 holder SIGKILL to the next instance\'s first LLM call (PostgreSQL)',
        value: (firstCall - killedAt) / 1000,
        ideal: baselineMs / 1000,
        unit: 's',
        limit: 5,
        note: `ideal: start to first call with the lock free; ${attempts === 1 ? 'the first instance started got the lock' : `${attempts} instances started (the earlier ones exited 4)`}${took ? `; it said: "${took.slice(0, 160)}"` : ''}`,
      },
    ];
  } finally {
    for (const instance of started) {
      if (instance.child.exitCode === null && instance.child.signalCode === null) instance.child.kill('SIGKILL');
      await instance.exited;
    }
    await env.close();
  }
}
