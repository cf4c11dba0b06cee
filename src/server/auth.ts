import { createHash, timingSafeEqual } from 'node:crypto';

/** Who is calling. Only the shared machine token today; a Google ID token's caller adds a kind here. */
export type Caller = { kind: 'machine' };

/** Checks the `Authorization` header; undefined when it proves nothing. */
export type Authenticate = (authorization: string | undefined) => Caller | undefined;

/** The shared bearer token, compared in constant time (hashing first makes both sides the same length). */
export function machineToken(token: string): Authenticate {
  const expected = digest(token);
  return (header) => {
    const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
    return match !== null && timingSafeEqual(digest((match[1] ?? '').trim()), expected) ? { kind: 'machine' } : undefined;
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
