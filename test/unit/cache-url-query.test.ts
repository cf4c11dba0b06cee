/** cache.url credentials in the query (`?password=`, `?sslpassword=`) are secrets too (invariant 7). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cacheUrlSecrets, displayCacheUrl } from '../../src/config/cache-url.js';

describe('cache.url credentials given as query parameters', () => {
  it('are hidden by displayCacheUrl and listed by cacheUrlSecrets', () => {
    const url = 'postgres://app@db.example:5432/bot?sslmode=require&password=s3cr%2Fet&sslpassword=keypass9';
    const shown = displayCacheUrl(url);
    expect(shown).not.toContain('s3cr');
    expect(shown).not.toContain('keypass9');
    expect(shown).toContain('db.example:5432/bot');
    expect(shown).toContain('sslmode=require');
    const secrets = cacheUrlSecrets(url);
    expect(secrets).toEqual(expect.arrayContaining(['s3cr/et', 's3cr%2Fet', 'keypass9']));
  });

  it('never leak a random password, whatever it holds', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 4 }), (password) => {
        const url = `postgres://app@db.example/bot?password=${encodeURIComponent(password)}`;
        const shown = displayCacheUrl(url);
        const secrets = cacheUrlSecrets(url);
        expect(secrets).toContain(password);
        if (!'postgres://app@db.example/bot?password=redacted'.includes(password)) expect(shown).not.toContain(encodeURIComponent(password));
      }),
    );
  });
});
