/**
 * cache.url through a Unix socket (Cloud SQL on Cloud Run mounts the instance's socket at
 * /cloudsql/PROJECT:REGION:INSTANCE): node-postgres takes the socket's folder in the `host`
 * query parameter, with the URL's host empty or a placeholder
 * (https://github.com/brianc/node-postgres/blob/master/packages/pg-connection-string/README.md,
 * "UNIX Domain Sockets"; https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING-URIS).
 * Config validation accepts both forms, the password is a secret in either, and a real
 * server is reached through its socket with such a URL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/cache/postgres/index.js';
import { targetOf } from '../../src/cache/postgres/target.js';
import { cacheLocation, displayCacheUrl, loadConfig, loadSecrets } from '../../src/config/index.js';
import { ConfigError, redact } from '../../src/errors.js';
import { configWithCache } from '../support/config-file.js';
import { testCluster } from '../support/postgres-store.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sv-cache-socket-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const PASSWORD = 'cl0ud-SQL-pa55';
const SOCKET = '/cloudsql/my-project:europe-west1:validator-db';

/** A config whose cache.url is ${DATABASE_URL} (the URL itself comes from the environment). */
function configFile(): string {
  return configWithCache(dir, { url: '${DATABASE_URL}' });
}

const FORMS = [
  // The README's form: the host left empty, the socket's folder in host=.
  `postgres://validator:${PASSWORD}@/statusvalidator?host=${SOCKET}`,
  // A placeholder host (what some tools write): host= wins, as node-postgres reads it.
  `postgresql://validator:${PASSWORD}@localhost/statusvalidator?host=${SOCKET}`,
  // The folder percent-encoded.
  `postgres://validator:${PASSWORD}@/statusvalidator?host=${encodeURIComponent(SOCKET)}`,
];

describe('cache.url with a Cloud SQL socket (host=/cloudsql/...)', () => {
  it.each(FORMS)('%s is accepted, its password a secret that redact() hides, shown without it', (url) => {
    const config = loadConfig(configFile(), { DATABASE_URL: url });
    expect(config.cache.url).toBe(url);
    const { secrets } = loadSecrets(config, { OPENAI_API_KEY: 'sk-test-0123456789abcdef' });
    expect(secrets.all).toContain(PASSWORD);
    expect(redact(`cannot connect with ${url}: password ${PASSWORD} refused`, secrets.all)).not.toContain(PASSWORD);
    // Even where the secrets are not loaded (the CLI's top-level catch).
    expect(redact(`cannot connect with ${url}`)).not.toContain(PASSWORD);
    const shown = cacheLocation(config.cache);
    expect(shown).not.toContain(PASSWORD);
    expect(shown).toContain('statusvalidator');
    // Where messages say the store lives: the socket folder, never the password.
    const target = targetOf(url);
    expect(target.host).toBe(SOCKET);
    expect(target.database).toBe('statusvalidator');
    expect(target.location).toBe(`${SOCKET}:5432/statusvalidator`);
    expect(target.secrets).toContain(PASSWORD);
  });

  it('shows the empty-host form as written, password replaced', () => {
    expect(displayCacheUrl(FORMS[0] ?? '')).toBe(`postgres://validator:redacted@/statusvalidator?host=${SOCKET}`);
  });

  it('still refuses a URL with neither a host nor host=', () => {
    for (const url of ['postgres://validator:pw@/statusvalidator', 'postgres:///statusvalidator', 'postgres://validator:pw@/db?host=']) {
      let error: unknown;
      try {
        loadConfig(configFile(), { DATABASE_URL: url });
      } catch (caught) {
        error = caught;
      }
      expect(error, url).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.map((p) => p.path)).toEqual(['cache.url']);
      expect((error as ConfigError).message).not.toContain('pw@');
    }
  });

  it('reaches a real server through its socket folder with such a URL', async () => {
    const cluster = await testCluster();
    const database = new URL(await cluster.createDatabase('socket')).pathname.slice(1);
    const url = `postgres://postgres:${encodeURIComponent(cluster.password)}@/${database}?host=${cluster.socketDir}&port=${cluster.port}`;
    const store = await openPostgresStore(url);
    try {
      expect(store.location).toBe(`${cluster.socketDir}:${cluster.port}/${database}`);
      expect(store.location).not.toContain(cluster.password);
      expect(await store.count()).toBe(0);
    } finally {
      await store.close();
    }
  });
});
