import { UnreachableCacheError, openStore } from '../cache/index.js';
import { displayCacheUrl, type Config } from '../config/index.js';
import { StatusValidatorError } from '../errors.js';
import { finding, type Finding } from './findings.js';

/** A check answers in seconds: the run's own open waits up to 15 s for a server that is starting. */
const CHECK_CONNECT_MS = 5_000;

/**
 * Opens the PostgreSQL cache each distinct `cache.url` names, as a run would first thing
 * (connect, bring the schema up to date), then closes it. Unreachable: unchecked (exit 1, as
 * the run would stop); refused (password, role, database, rights): a problem in cache.url
 * to fix (exit 2). A SQLite `cache.path` is left alone: opening it would create the file.
 * Every message comes from the store, which names host, port and database, never the password.
 */
export async function checkCaches(targets: readonly Config[]): Promise<Finding[]> {
  const urls = [...new Set(targets.map((t) => t.cache.url).filter((u): u is string => u !== undefined && u !== ''))];
  return Promise.all(urls.map((url) => checkCache(url)));
}

async function checkCache(url: string): Promise<Finding> {
  const scope = `cache ${displayCacheUrl(url)}`;
  try {
    const store = await openStore({ path: '', url }, { connectTimeoutMs: CHECK_CONNECT_MS });
    const { kind, location } = store;
    await store.close();
    return finding('ok', scope, `the cache was reached (${kind} at ${location}); its schema is up to date`);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const hint = error instanceof StatusValidatorError ? error.hint : undefined;
    if (error instanceof UnreachableCacheError) return finding('unchecked', scope, message, { field: 'cache.url', fix: hint });
    return finding('problem', scope, message, { field: 'cache.url', fix: hint ?? 'Check cache.url.' });
  }
}
