import type { Store } from './contract.js';
import type { PostgresStoreOptions } from './postgres/index.js';
import { settled } from './sqlite/settled.js';
import { SqliteStore } from './sqlite/store.js';
import type { OpenSqliteOptions } from './sqlite/open.js';

export type OpenStoreOptions = OpenSqliteOptions & PostgresStoreOptions;

/**
 * The store a config names: PostgreSQL when `cache.url` is set (it wins over `cache.path`),
 * else the SQLite file at `cache.path`. Opened once per command or process and handed down.
 */
export function openStore(cache: { path: string; url?: string | undefined }, options: OpenStoreOptions = {}): Promise<Store> {
  // Loaded only for a cache.url: a run on SQLite does without pg (startup: issue 25).
  if (cache.url !== undefined && cache.url !== '') return import('./postgres/index.js').then(({ openPostgresStore }) => openPostgresStore(cache.url ?? '', options));
  return settled(() => SqliteStore.open(cache.path, options));
}
