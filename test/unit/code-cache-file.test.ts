/**
 * The code cache's file is outside input (anything on disk may be there): whatever its bytes,
 * reading it never throws, and only a file whose CRC-32 header matches its payload, and whose
 * next byte says partial (0) or whole (1), reaches V8, which rejects data that is no code
 * cache of the script rather than running it.
 */
import fc from 'fast-check';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Script } from 'node:vm';
import { crc32 } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { PRUNE_UNUSED_MS, readCache, writeCache } from '../../src/cli/code-cache.js';

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

describe('writeCache prunes', () => {
  it('the caches of other builds left unread for a week and temporary files a day old; nothing else', () => {
    const folder = mkdtempSync(path.join(dir, 'prune-'));
    const name = (crc: string, command = 'run') => `cli-${crc}-${command}-v8-11.3.244.8-node.38-x64.cache`;
    const at = (file: string, ageMs: number) => {
      const when = new Date(Date.now() - ageMs);
      utimesSync(path.join(folder, file), when, when);
    };
    const week = PRUNE_UNUSED_MS;
    const seed: Array<[string, number]> = [
      [name('aaaaaaaa', 'watch'), 2 * week], // this build's cache of another command: kept, however old
      [name('bbbbbbbb'), week + 60_000], // another build, unread for over a week: pruned
      [name('cccccccc'), week - 3_600_000], // another build, read within the week: kept
      [`${name('dddddddd')}.1234.tmp`, 25 * 3_600_000], // a writer killed before its rename, a day ago: pruned
      [`${name('eeeeeeee')}.99.tmp`, 3_600_000], // a writer perhaps still at work: kept
      ['notes.txt', 2 * week], // not a cache: kept
    ];
    for (const [file, age] of seed) {
      writeFileSync(path.join(folder, file), 'x');
      at(file, age);
    }
    // Not regular files: never removed, whatever their names and ages.
    mkdirSync(path.join(folder, name('ffffffff')));
    at(name('ffffffff'), 2 * week);
    symlinkSync(path.join(folder, 'notes.txt'), path.join(folder, name('99999999')));
    writeCache(path.join(folder, name('aaaaaaaa')), Buffer.from('data'), true);
    expect(readdirSync(folder).sort()).toEqual(
      [name('aaaaaaaa'), name('aaaaaaaa', 'watch'), name('cccccccc'), `${name('eeeeeeee')}.99.tmp`, 'notes.txt', name('ffffffff'), name('99999999')].sort(),
    );
  });
});
