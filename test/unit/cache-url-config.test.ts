/**
 * cache.url (issue 21): a PostgreSQL URL, `${DATABASE_URL}` interpolated like any value,
 * validated with an error that names the field (and never echoes the URL, which may hold a
 * password), and its password a secret: redact() hides it wherever it would appear.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cacheLocation, cacheUrlSecrets, displayCacheUrl, loadConfig, loadSecrets } from '../../src/config/index.js';
import { redact } from '../../src/errors.js';
import { configError, configWithCache } from '../support/config-file.js';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sv-cache-url-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const PASSWORD = 's3cr3t-Pa55word';

const configFile = (cache: Record<string, unknown>): string => configWithCache(dir, cache);

describe('cache.url', () => {
  it('takes ${DATABASE_URL} and keeps cache.path beside it', () => {
    const url = `postgres://bot:${PASSWORD}@db.example:5432/validator`;
    const config = loadConfig(configFile({ url: '${DATABASE_URL}' }), { DATABASE_URL: url });
    expect(config.cache.url).toBe(url);
    expect(path.isAbsolute(config.cache.path)).toBe(true);
    expect(loadConfig(configFile({ url: 'postgresql://db.example/validator' }), {}).cache.url).toBe('postgresql://db.example/validator');
  });

  it.each(['mysql://bot:pw@db.example/validator', 'db.example:5432', 'postgres://', `https://bot:${PASSWORD}@db.example/validator`])('refuses %s under cache.url, without echoing it', (url) => {
    const error = configError(() => loadConfig(configFile({ url }), {}));
    expect(error.problems.map((p) => p.path)).toEqual(['cache.url']);
    expect(error.message).toContain('expected a PostgreSQL URL');
    expect(error.message).not.toContain(PASSWORD);
  });

  it('makes the password a secret: in secrets.all (as written and decoded), so redact() hides it', () => {
    const url = `postgres://bot:${encodeURIComponent(`${PASSWORD}/@`)}@db.example:5432/validator`;
    const config = loadConfig(configFile({ url }), {});
    const { secrets } = loadSecrets(config, { OPENAI_API_KEY: 'sk-test-0123456789abcdef' });
    expect(secrets.all).toContain(`${PASSWORD}/@`);
    expect(secrets.all).toContain(encodeURIComponent(`${PASSWORD}/@`));
    const text = `connection to ${url} failed; password "${PASSWORD}/@" refused`;
    const shown = redact(text, secrets.all);
    expect(shown).not.toContain(PASSWORD);
  });

  it('hides any URL password even where the secrets are not loaded (runs, the CLI top-level catch)', () => {
    expect(redact(`could not connect to postgres://bot:${PASSWORD}@db.example:5432/validator`)).toBe('could not connect to postgres://bot:[redacted]@db.example:5432/validator');
    expect(redact('postgresql://:pw@h/db')).toBe('postgresql://:[redacted]@h/db');
    expect(redact('see https://www.sqlite.org/wal.html and 10:30 @ noon')).toBe('see https://www.sqlite.org/wal.html and 10:30 @ noon');
  });

  it('is shown without its password', () => {
    expect(displayCacheUrl(`postgres://bot:${PASSWORD}@db.example:5432/validator`)).toBe('postgres://bot:redacted@db.example:5432/validator');
    expect(cacheLocation({ path: '/var/cache.sqlite' })).toBe('/var/cache.sqlite');
    expect(cacheLocation({ path: '/var/cache.sqlite', url: 'postgres://db.example/v' })).toBe('postgres://db.example/v');
  });

  it('never throws on any text, and never lets a password through', () => {
    fc.assert(
      fc.property(fc.string(), fc.string({ minLength: 1 }).filter((p) => !/[\s]/.test(p)), (anything, password) => {
        expect(Array.isArray(cacheUrlSecrets(anything))).toBe(true);
        expect(typeof displayCacheUrl(anything)).toBe('string');
        const url = `postgres://bot:${encodeURIComponent(password)}@db.example:5432/v`;
        expect(displayCacheUrl(url)).not.toContain(`:${encodeURIComponent(password)}@`);
        expect(redact(url)).not.toContain(`:${encodeURIComponent(password)}@`);
      }),
    );
  });
});
