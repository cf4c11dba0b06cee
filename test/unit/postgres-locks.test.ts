import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/cache/contract.js';
import { openPostgresStore } from '../../src/cache/postgres/index.js';
import { LockedError } from '../../src/errors.js';
import { testCluster } from '../support/postgres-store.js';

const stores: Store[] = [];
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const store of stores.splice(0)) await store.close();
});

/** Two instances' stores: each its own pool, on one database. */
async function twoInstances(options: { staleAfterMs?: number } = {}): Promise<[Store, Store, string]> {
  const url = await (await testCluster()).createDatabase('locks');
  const a = await openPostgresStore(url, options);
  const b = await openPostgresStore(url, options);
  stores.push(a, b);
  return [a, b, url];
}

async function refusal(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a refusal');
    },
    (error: unknown) => error as Error,
  );
}

describe('PostgreSQL locks across instances', () => {
  it('two instances contend for one lock, again and again: exactly one wins each time', async () => {
    const [a, b] = await twoInstances();
    for (let round = 0; round < 8; round++) {
      const results = await Promise.allSettled([a.locks.acquire('tab', `a-${round}`), b.locks.acquire('tab', `b-${round}`)]);
      const won = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      expect(won).toHaveLength(1);
      const lost = results.find((r) => r.status === 'rejected');
      expect(lost?.status === 'rejected' && lost.reason).toBeInstanceOf(LockedError);
      await won[0]?.release();
    }
  });

  it('a holder whose process is SIGKILLed frees the lock within seconds; its run is marked killed', async () => {
    const [, b, url] = await twoInstances();
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/postgres-lock-holder.ts', 'tab', 'child-run'], {
      env: { ...process.env, SV_PG_URL: url },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    const [first] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
    expect(JSON.parse(first)).toMatchObject({ held: true });
    const refused = await refusal(b.locks.acquire('tab', 'parent-run', { label: 'tab T' }));
    expect(refused).toBeInstanceOf(LockedError);
    expect(refused.message).toContain(`run child-run, pid ${child.pid}`);

    const killedAt = Date.now();
    child.kill('SIGKILL');
    let lock;
    for (;;) {
      try {
        lock = await b.locks.acquire('tab', 'parent-run');
        break;
      } catch (error) {
        if (!(error instanceof LockedError) || Date.now() - killedAt > 10_000) throw error;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    const seconds = (Date.now() - killedAt) / 1000;
    console.log(`PostgreSQL lock: SIGKILL of the holder to the next acquire: ${seconds.toFixed(2)} s`);
    expect(seconds).toBeLessThan(10);
    expect(lock.tookOver).toMatch(/took over the lock of run child-run .*connection to the database had ended/);
    const [run] = await b.runs.recent(1);
    expect(run).toMatchObject({ id: 'child-run', status: 'killed' });
    await lock.release();
  });

  it('a holder that hangs with its connection open is taken over once its heartbeat is stale by the server\'s clock; a beating one is not', async () => {
    const [a, b] = await twoInstances({ staleAfterMs: 1_500 });
    await a.runs.start({ id: 'hung', startedAt: new Date().toISOString(), trigger: 'cli', spreadsheetId: 's', sheet: 'T' });
    const beating = await a.locks.acquire('beating', 'alive');
    const timer = setInterval(() => void beating.heartbeat(), 300);
    const hung = await a.locks.acquire('tab', 'hung');
    await new Promise((resolve) => setTimeout(resolve, 1_800));
    try {
      expect(await refusal(b.locks.acquire('beating', 'other'))).toBeInstanceOf(LockedError);
    } finally {
      clearInterval(timer);
    }
    const lock = await b.locks.acquire('tab', 'taker');
    expect(lock.tookOver).toMatch(/took over the lock of run hung .*heartbeat had not advanced for \d+ s by the database's clock/);
    // The hung holder's session was ended: it knows at once, and its heartbeat says the lock is not its own.
    await expect.poll(() => hung.lost?.aborted, { timeout: 5_000 }).toBe(true);
    expect(await hung.heartbeat()).toBe(false);
    expect((await b.runs.recent(5)).find((r) => r.id === 'hung')?.status).toBe('killed');
    expect(await b.locks.holder('tab')).toMatchObject({ runId: 'taker' });
    await hung.release();
    expect(await b.locks.holder('tab')).toMatchObject({ runId: 'taker' });
    await lock.release();
    await beating.release();
  });

  it('the lock\'s `lost` aborts when its connection is terminated from another session, and heartbeat says false', async () => {
    const [a, b] = await twoInstances();
    const lock = await a.locks.acquire('tab', 'run-1');
    expect(lock.lost?.aborted).toBe(false);
    const cluster = await testCluster();
    const database = a.location.split('/').pop() ?? '';
    const [row] = await cluster.sql<{ killed: boolean }>('SELECT pg_terminate_backend(backend_pid) AS killed FROM locks WHERE name = $1', ['tab'], database);
    expect(row?.killed).toBe(true);
    await expect.poll(() => lock.lost?.aborted, { timeout: 3_000 }).toBe(true);
    expect(String((lock.lost?.reason as Error).message)).toContain(a.location);
    expect(await lock.heartbeat()).toBe(false);
    // The lock is free for another instance at once.
    const next = await b.locks.acquire('tab', 'run-2');
    expect(next.tookOver).toMatch(/run-1/);
    await lock.release();
    await next.release();
  });
});
