/**
 * The code cache's file is outside input (anything on disk may be there): whatever its bytes,
 * reading it never throws, and only a file whose CRC-32 header matches its payload reaches
 * V8, which rejects data that is no code cache of the script rather than running it.
 */
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Script } from 'node:vm';
import { crc32 } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { readCache } from '../../src/cli/code-cache.js';

const dir = mkdtempSync(path.join(tmpdir(), 'sv-code-cache-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = path.join(dir, 'cli.cache');

const withHeader = (payload: Uint8Array) => {
  const header = Buffer.alloc(4);
  header.writeUInt32LE(crc32(payload));
  return Buffer.concat([header, payload]);
};

describe('readCache', () => {
  it('returns random bytes as corrupt (or, with a matching header, as data), never throwing', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), (bytes, headed) => {
        writeFileSync(file, headed ? withHeader(bytes) : bytes);
        const read = readCache(file);
        if (headed && bytes.length > 0) expect(read.data?.equals(bytes)).toBe(true);
        else expect(read).toEqual({ state: 'corrupt' });
      }),
      { numRuns: 200 },
    );
  });

  it('tells a missing file, and no cache at all', () => {
    expect(readCache(path.join(dir, 'none.cache'))).toEqual({ state: 'absent' });
    expect(readCache(undefined)).toEqual({ state: 'off' });
  });

  it('hands V8 nothing it runs: random data with a right header is rejected', () => {
    // A source of its own each time: V8 would serve a source it has compiled in this process
    // from its in-memory cache, without looking at the data (the bin compiles its script once).
    let n = 0;
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 256 }), (bytes) => {
        writeFileSync(file, withHeader(bytes));
        const { data } = readCache(file);
        const script = new Script(`6 * 7 // ${n++}`, { filename: 'probe.js', ...(data ? { cachedData: data } : {}) });
        expect(script.cachedDataRejected).toBe(true);
        expect(script.runInThisContext()).toBe(42);
      }),
      { numRuns: 200 },
    );
  });
});
