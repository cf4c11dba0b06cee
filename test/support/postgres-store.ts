/**
 * A PostgreSQL Store on a test cluster: one cluster per test file (./postgres.ts), a fresh
 * database per store opened.
 */
import { afterAll } from 'vitest';
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
