/**
 * The code cache's file is outside input (anything on disk may be there): whatever its bytes,
 * reading it never throws, and only a file whose CRC-32 header matches its payload, and whose
 * next byte says partial (0) or whole (1), reaches V8, which rejects data that is no code
 * cache of the script rather than running it.
 */
import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Script } from 'node:vm';
import { crc32 } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { readCache, writeCache } from '../../src/cli/code-cache.js';

const dir = mkdtempSync(path.join(tmpdir(), 'sv-code-cache-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = path.join(dir, 'cli.cache');

const withHeader = (payload: Uint8Array) => {
  const header = Buffer.alloc(4);
  header.writeUInt32LE(crc32(payload));
  return Buffer.concat([header, payload]);
};

describe('readCache', () => {
  it('returns random bytes as corrupt (or, with a matching header and a known kind, as data, partial or whole), never throwing', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), fc.option(fc.constantFrom(0, 1)), (bytes, headed, kind) => {
        const payload = kind === null ? bytes : Buffer.concat([Buffer.of(kind), bytes]);
        writeFileSync(file, headed ? withHeader(payload) : payload);
        const read = readCache(file);
        if (headed && payload.length >= 2 && (payload[0] === 0 || payload[0] === 1)) {
          expect(read.data?.equals(payload.subarray(1))).toBe(true);
          expect(read.whole).toBe(payload[0] === 1);
        } else expect(read).toEqual({ state: 'corrupt' });
      }),
      { numRuns: 400 },
    );
  });

  it('reads back what writeCache wrote, whole or partial, and a cache of the old format (no kind byte) only as corrupt', () => {
    const data = Buffer.from('not really V8 data');
    for (const whole of [true, false]) {
      writeCache(file, data, whole);
      expect(readCache(file)).toMatchObject({ data, state: 'absent', whole });
      expect(readCache(file).checksum).toBe(readFileSync(file).readUInt32LE(0));
    }
    writeFileSync(file, withHeader(Buffer.concat([Buffer.of(7), data])));
    expect(readCache(file)).toEqual({ state: 'corrupt' });
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
        writeFileSync(file, withHeader(Buffer.concat([Buffer.of(n % 2), bytes])));
        const { data } = readCache(file);
        const script = new Script(`6 * 7 // ${n++}`, { filename: 'probe.js', ...(data ? { cachedData: data } : {}) });
        expect(script.cachedDataRejected).toBe(true);
        expect(script.runInThisContext()).toBe(42);
      }),
      { numRuns: 200 },
    );
  });
});
