/**
 * A PostgreSQL Store on a test cluster: one cluster per test file (./postgres.ts), a fresh
 * database per store opened.
 */
import type pg from 'pg';
import { afterAll, afterEach } from 'vitest';
import type { Store } from '../../src/cache/contract.js';
import { openPostgresStore, type PostgresStoreOptions } from '../../src/cache/postgres/index.js';
import { startPostgres, type PostgresCluster } from './postgres.js';

let cluster: Promise<PostgresCluster> | undefined;

// Registered while the importing test file is collected (a hook registered inside a test would be lost).
afterAll(async () => (await cluster)?.dispose());

/** This file's cluster, started on first use and stopped after the file's tests. */
export function testCluster(): Promise<PostgresCluster> {
  cluster ??= startPostgres();
  return cluster;
}

/** A store on a new, empty database of this file's cluster. */
export async function freshPostgresStore(options: PostgresStoreOptions = {}): Promise<Store> {
  const url = await (await testCluster()).createDatabase('store');
  return openPostgresStore(url, options);
}

/** A new, empty database of this file's cluster (its name made from `prefix`): its URL and name. */
export async function freshDatabase(prefix: string): Promise<{ url: string; name: string }> {
  const url = await (await testCluster()).createDatabase(prefix);
  return { url, name: url.split('/').pop() ?? '' };
}

export interface PostgresAfterEach {
  /** Stores closed after each test (those still open), once the clients have ended. */
  stores: Store[];
  /** Clients of the test's own (pg.Client) ended after each test, whatever their state. */
  clients: pg.Client[];
  /** A store on `url` (its locks stale after `staleAfterMs` when given), closed after the test. */
  open: (url: string, staleAfterMs?: number) => Promise<Store>;
}

/**
 * Registers the afterEach of a test file that opens stores (and clients) on this file's cluster:
 * the clients end first, then the stores still open close. Call it at the file's top.
 */
export function postgresAfterEach(): PostgresAfterEach {
  const stores: Store[] = [];
  const clients: pg.Client[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.end().catch(() => {});
    for (const s of stores.splice(0)) if (s.isOpen) await s.close();
  });
  return {
    stores,
    clients,
    async open(url, staleAfterMs) {
      const s = await openPostgresStore(url, staleAfterMs === undefined ? {} : { staleAfterMs });
      stores.push(s);
      return s;
    },
  };
}
