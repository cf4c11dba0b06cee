/**
 * Review of the PostgreSQL store (issue 21 item 4, invariant 7): "The URL's password never appears
 * anywhere". A password with a '/' written into cache.url unencoded (base64 passwords, as
 * `openssl rand -base64` makes them, hold '/' and '+') is parsed by the WHATWG URL rules pg uses
 * (https://url.spec.whatwg.org/#authority-state: the authority ends at the first '/') as
 * user "app", host "app" or "USER", port = the text after ':' (empty or digits) and a database
 * name that holds the password's remainder, '@' and the real host. The store reads that
 * database name into `location` and `address`, which every message prints unscrubbed: the
 * password reaches `Store.location`, the open failure's message and its hint.
 * (The code scrubs server messages, but never the location it builds itself.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/cache/postgres/index.js';
import { targetOf } from '../../src/cache/postgres/target.js';
import { closedPort } from '../support/closed-port.js';

async function openError(url: string): Promise<Error & { hint?: string }> {
  return openPostgresStore(url, { connectTimeoutMs: 1_000 }).then(
    async (store) => {
      await store.close();
      throw new Error('expected the open to fail');
    },
    (error: unknown) => error as Error & { hint?: string },
  );
}

describe('a password holding "/" written into cache.url unencoded', () => {
  it('the open failure names neither the password nor its tail', async () => {
    const port = await closedPort();
    // A human reads user "127.0.0.1" and password "PORT/Zk3q9Tx2"; pg reads host 127.0.0.1, port PORT and database "Zk3q9Tx2@db.internal/cache"
    // (the user "127.0.0.1" only makes the refused connection fast and deterministic: any user name leaks alike, see the property below).
    const password = `${port}/Zk3q9Tx2`;
    const error = await openError(`postgres://127.0.0.1:${password}@db.internal/cache`);
    for (const text of [error.message, error.hint ?? '', JSON.stringify(error)]) expect(text).not.toContain('Zk3q9Tx2');
  });

  it('property: no target location or address holds any 6-character run of the password', () => {
    const base64 = fc.stringMatching(/^[A-Za-z0-9+/]{12,24}$/);
    fc.assert(
      fc.property(fc.nat({ max: 65535 }), base64, (digits, tail) => {
        const password = `${digits}/${tail}`;
        let target;
        try {
          target = targetOf(`postgres://app:${password}@db.internal:5432/cache`);
        } catch {
          return; // refused without echoing the URL: fine
        }
        for (let i = 0; i + 6 <= tail.length; i++) {
          const piece = tail.slice(i, i + 6);
          expect(target.location).not.toContain(piece);
          expect(target.address).not.toContain(piece);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('is refused with what to do, and the same password percent-encoded reads the host the user meant', () => {
    for (const password of ['Zk3q/9Tx2+w=', 'Zk3q?9Tx2', 'Zk3q#9Tx2', 'Zk/3q@9Tx2']) {
      let refusal: (Error & { hint?: string }) | undefined;
      try {
        targetOf(`postgres://app:${password}@db.internal:5432/cache`);
      } catch (error) {
        refusal = error as Error & { hint?: string };
      }
      expect(refusal?.message).toMatch(/password/);
      expect(refusal?.hint).toMatch(/encodeURIComponent/);
      for (const text of [refusal?.message ?? '', refusal?.hint ?? '']) expect(text).not.toContain('9Tx2');
      const target = targetOf(`postgres://app:${encodeURIComponent(password)}@db.internal:5432/cache`);
      expect(target.location).toBe('db.internal:5432/cache');
      expect(target.secrets).toContain(password);
    }
  });
});
