import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/cache/contract.js';
import { isConnectionFault } from '../../src/cache/postgres/faults.js';
import { openPostgresStore } from '../../src/cache/postgres/index.js';
import { PG_MIGRATIONS } from '../../src/cache/postgres/schema.js';
import { StatusValidatorError } from '../../src/errors.js';
import { closedPort } from '../support/closed-port.js';
import { startPostgres, type PostgresCluster } from '../support/postgres.js';
import { verdictOf } from '../contract/store-contract.js';

// A private cluster: these tests stop and restart it.
let cluster: PostgresCluster;
const stores: Store[] = [];
beforeAll(async () => {
  cluster = await startPostgres();
});
afterAll(() => cluster.dispose());
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

async function failure(promise: Promise<unknown>): Promise<StatusValidatorError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StatusValidatorError);
  return error as StatusValidatorError;
}

const everything = (e: StatusValidatorError) => `${e.message}\n${e.hint ?? ''}\n${String(e.stack)}`;

describe('which failures are retried', () => {
  // https://www.postgresql.org/docs/15/errcodes-appendix.html
  const coded = (code: string) => Object.assign(new Error(`failure ${code}`), { code });
  it('connection-class SQLSTATEs and socket errors are; a query the server refuses is not', () => {
    for (const code of ['08000', '08003', '08006', '08001', '08004', '57P01', '57P02', '57P03', '53300', '40001', '40P01', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE']) {
      expect(isConnectionFault(coded(code)), code).toBe(true);
    }
    expect(isConnectionFault(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isConnectionFault(new Error('timeout exceeded when trying to connect'))).toBe(true);
    for (const code of ['28P01', '28000', '3D000', '42501', '23505', '42P01', '22P02', 'ENOTFOUND']) expect(isConnectionFault(coded(code)), code).toBe(false);
    expect(isConnectionFault(new StatusValidatorError('Connection terminated'))).toBe(false);
  });
});

describe('opening a PostgreSQL cache that will not open', () => {
  it('an unreachable port fails within the bound, naming 127.0.0.1:PORT', async () => {
    const port = await closedPort();
    const started = Date.now();
    const error = await failure(openPostgresStore(`postgres://sv:hunter2-secret@127.0.0.1:${port}/cache`, { connectTimeoutMs: 2_000 }));
    const seconds = (Date.now() - started) / 1000;
    expect(seconds).toBeLessThan(5);
    expect(error.message).toContain(`127.0.0.1:${port}`);
    expect(error.message).toMatch(/Cannot reach .*ECONNREFUSED/);
    expect(error.hint).toMatch(/running/);
    expect(everything(error)).not.toContain('hunter2-secret');
  });

  it('a host that never answers (a black-holed address) fails within the bound, naming it', async () => {
    const started = Date.now();
    // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never routed, so a connection either hangs or is refused by the network.
    const error = await failure(openPostgresStore('postgres://sv:blackhole-pass@192.0.2.1:5432/cache', { connectTimeoutMs: 1_500 }));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error.message).toContain('192.0.2.1:5432/cache');
    expect(everything(error)).not.toContain('blackhole-pass');
  });

  it('an open store\'s location names host, port and database, never the password', async () => {
    const store = await openPostgresStore(cluster.url('postgres'));
    stores.push(store);
    expect(store.location).toBe(`127.0.0.1:${cluster.port}/postgres`);
    expect(store.location).not.toContain(cluster.password);
  });

  it('a wrong password is named as such, without the password', async () => {
    const error = await failure(openPostgresStore(`postgres://postgres:wrong-pass-123@127.0.0.1:${cluster.port}/postgres`));
    expect(error.message).toContain('refused the password of user "postgres"');
    expect(error.message).toContain(`127.0.0.1:${cluster.port}/postgres`);
    expect(error.hint).toMatch(/cache\.url/);
    expect(everything(error)).not.toContain('wrong-pass-123');
  });

  it('a missing role and an unknown database say what to fix', async () => {
    const role = await failure(openPostgresStore(`postgres://nobody:some-pass-456@127.0.0.1:${cluster.port}/postgres`));
    expect(role.message).toContain('user "nobody"');
    expect(role.hint).toMatch(/role exists/);
    const database = await failure(openPostgresStore(cluster.url('no_such_db')));
    expect(database.message).toContain('database "no_such_db" does not exist');
    expect(database.hint).toContain('CREATE DATABASE "no_such_db"');
    expect(everything(database)).not.toContain(cluster.password);
  });

  it('a database of a newer schema is refused, untouched', async () => {
    const url = await cluster.createDatabase('newer');
    stores.push(await openPostgresStore(url));
    const name = url.split('/').pop() ?? '';
    await cluster.sql('UPDATE status_validator_schema SET version = 99', [], name);
    const error = await failure(openPostgresStore(url));
    expect(error.message).toContain(`newer status-validator (schema 99; this one knows up to ${PG_MIGRATIONS.length})`);
    expect(await cluster.sql('SELECT version FROM status_validator_schema', [], name)).toEqual([{ version: 99 }]);
  });

  it('instances opening a new database at once migrate it once', async () => {
    const url = await cluster.createDatabase('race');
    const opened = await Promise.all(Array.from({ length: 4 }, () => openPostgresStore(url)));
    stores.push(...opened);
    await opened[0]?.put(verdictOf('k'));
    expect(await opened[3]?.count()).toBe(1);
    expect(await cluster.sql('SELECT version FROM status_validator_schema', [], url.split('/').pop())).toEqual([{ version: PG_MIGRATIONS.length }]);
  });

  it('property: no message, hint or location of a failing open holds the URL\'s password', async () => {
    const port = await closedPort();
    const password = fc.string({ unit: 'grapheme', minLength: 8, maxLength: 24 });
    const word = fc.stringMatching(/^[a-z][a-z0-9_]{0,11}$/);
    await fc.assert(
      fc.asyncProperty(password, word, word, fc.constantFrom('closed', 'live', 'garbled'), async (secret, user, db, where) => {
        const encoded = encodeURIComponent(secret);
        const url =
          where === 'garbled'
            ? `postgres://${user}:${secret}@127.0.0.1:${port}:x/${db}?sslmode=%zz`
            : `postgresql://${user}:${encoded}@127.0.0.1:${where === 'closed' ? port : cluster.port}/${db}`;
        const error = await failure(openPostgresStore(url, { connectTimeoutMs: 150 }));
        for (const text of [error.message, error.hint ?? '', String(error.stack), JSON.stringify(error)]) {
          expect(text).not.toContain(secret);
          expect(text).not.toContain(encoded);
        }
      }),
      { numRuns: 40 },
    );
  });
});

describe('the server restarting or gone mid-run', () => {
  it('idle pooled connections ended by the server (pg_terminate_backend) cost nothing: the next statements connect again', async () => {
    const url = await cluster.createDatabase('idle');
    const store = await openPostgresStore(url);
    stores.push(store);
    await Promise.all(Array.from({ length: 6 }, (_, i) => store.put(verdictOf(`k${i}`))));
    const ended = await cluster.sql('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [url.split('/').pop()]);
    expect(ended.length).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await store.count()).toBe(6);
  });

  it('closing the store releases the locks it holds', async () => {
    const url = await cluster.createDatabase('close');
    const a = await openPostgresStore(url);
    const b = await openPostgresStore(url);
    stores.push(b);
    await a.locks.acquire('tab', 'run-a');
    await a.close();
    const lock = await b.locks.acquire('tab', 'run-b');
    expect(lock.tookOver).toBeUndefined();
    await lock.release();
  });

  it('pg_ctl restart while puts are in flight: every put resolves (and is then readable) or fails naming host:port, never hangs', async () => {
    const store = await openPostgresStore(await cluster.createDatabase('restart'), { commitPatienceMs: 10_000 });
    stores.push(store);
    const outcomes = new Map<string, 'saved' | StatusValidatorError>();
    let stop = false;
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const key = `w${w}-${i}`;
        await store.put(verdictOf(key)).then(
          () => outcomes.set(key, 'saved'),
          (error: unknown) => outcomes.set(key, error as StatusValidatorError),
        );
      }
    };
    const writers = Promise.all([0, 1, 2, 3].map(writer));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const before = outcomes.size;
    cluster.restart('fast');
    await new Promise((resolve) => setTimeout(resolve, 500));
    stop = true;
    await writers;
    expect(outcomes.size).toBeGreaterThan(before);
    const failed = [...outcomes.values()].filter((o) => o !== 'saved');
    for (const error of failed) {
      expect(error).toBeInstanceOf(StatusValidatorError);
      expect(error.message).toContain(`127.0.0.1:${cluster.port}`);
    }
    const saved = [...outcomes].filter(([, o]) => o === 'saved').map(([key]) => key);
    const { verdicts } = await store.lookup(saved);
    expect(verdicts.size).toBe(saved.length);
    console.log(`restart mid-run: ${saved.length} puts saved, ${failed.length} failed`);
  });

  it('a server stopped for longer than the bound: the put fails with exit-1 advice naming host:port; once back, puts work again', async () => {
    const store = await openPostgresStore(await cluster.createDatabase('down'), { commitPatienceMs: 1_500 });
    stores.push(store);
    await store.put(verdictOf('before'));
    cluster.stop('fast');
    try {
      const started = Date.now();
      const error = await failure(store.put(verdictOf('during')));
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(error.message).toMatch(new RegExp(`PostgreSQL cache at 127\\.0\\.0\\.1:${cluster.port}/\\w+ stayed unreachable for \\d+ s while`));
      expect(error.hint).toContain(`127.0.0.1:${cluster.port}`);
      expect(error.hint).toMatch(/committed so far is kept/);
      expect(everything(error)).not.toContain(cluster.password);
      const lock = await failure(store.locks.acquire('tab', 'r'));
      expect(lock.message).toContain(`127.0.0.1:${cluster.port}`);
    } finally {
      cluster.start();
    }
    await store.put(verdictOf('after'));
    expect((await store.lookup(['before', 'during', 'after'])).verdicts.size).toBe(2);
  });

  it('a server killed outright (SIGKILL of the postmaster): puts fail within the bound, no unhandled error', async () => {
    const store = await openPostgresStore(await cluster.createDatabase('killed'), { commitPatienceMs: 1_000 });
    stores.push(store);
    const lock = await store.locks.acquire('tab', 'r');
    await store.put(verdictOf('before'));
    cluster.kill();
    try {
      const error = await failure(store.put(verdictOf('during')));
      expect(error.message).toContain(`127.0.0.1:${cluster.port}`);
      await expect.poll(() => lock.lost?.aborted, { timeout: 5_000 }).toBe(true);
      expect(await lock.heartbeat()).toBe(false);
    } finally {
      // The killed postmaster's children exit on their own; pg_ctl start recovers the data directory.
      await new Promise((resolve) => setTimeout(resolve, 500));
      cluster.start();
    }
    await lock.release();
    expect(await store.get('before')).toBeDefined();
  });
});
