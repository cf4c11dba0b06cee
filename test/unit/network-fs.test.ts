/**
 * Issue 21 item 6: a SQLite cache on a network file system is refused (exit 2), naming the
 * file and the file system statfs found, and pointing to cache.url. SQLite's WAL and locks
 * are unreliable there (https://www.sqlite.org/wal.html, https://www.sqlite.org/lockingv3.html#how_to_corrupt).
 */
import { existsSync, mkdtempSync, rmSync, statfsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore, networkFileSystemOf, openStore } from '../../src/cache/index.js';
import { UnsafeCacheError, type StatusValidatorError } from '../../src/errors.js';
import { exitCodeOfError } from '../../src/cli/main.js';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sv-netfs-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('networkFileSystemOf', () => {
  it.each([
    [0x6969, 'NFS'],
    [0x65735546, 'FUSE'],
    [0xff534d42, 'CIFS/SMB'],
    [0xfe534d42, 'SMB2/SMB3'],
    [0x517b, 'SMB'],
    [0x01021997, '9p (v9fs)'],
    [0x00c36400, 'Ceph'],
    [0x5346414f, 'AFS'],
    [0x0bd00bd0, 'Lustre'],
  ])('names f_type %i %s', (type, name) => {
    expect(networkFileSystemOf(type)).toBe(name);
    expect(networkFileSystemOf(BigInt(type))).toBe(name);
  });

  it('reads a magic number that a 32-bit statfs gives as a negative long (0xFF534D42 as -11317950)', () => {
    expect(networkFileSystemOf(0xff534d42 - 2 ** 32)).toBe('CIFS/SMB');
  });

  it.each([
    ['ext4', 0xef53],
    ['tmpfs', 0x01021994],
    ['overlayfs', 0x794c7630],
    ['xfs', 0x58465342],
    ['btrfs', 0x9123683e],
    ['zfs', 0x2fc12fc1],
  ])('accepts a local file system (%s)', (_name, type) => {
    expect(networkFileSystemOf(type)).toBeUndefined();
  });

  it('never throws, whatever number statfs gives (or a broken binding)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.double(), fc.integer(), fc.bigInt(), fc.constantFrom(NaN, Infinity, -Infinity, -0, 2 ** 53, -(2 ** 63))), (type) => {
        const name = networkFileSystemOf(type);
        expect(name === undefined || typeof name === 'string').toBe(true);
      }),
    );
  });
});

describe('opening a SQLite cache', () => {
  const nfs = () => ({ type: 0x6969 });

  it('is refused on NFS with exit 2: names the file and the file system, says why, points to cache.url, creates nothing', async () => {
    const file = path.join(dir, 'shared', 'cache.sqlite');
    let error: unknown;
    try {
      await openStore({ path: file }, { statfs: nfs });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UnsafeCacheError);
    const refusal = error as StatusValidatorError;
    expect(exitCodeOfError(refusal)).toBe(2);
    expect(refusal.message).toContain(file);
    expect(refusal.message).toContain('NFS');
    expect(refusal.message).toContain('0x6969');
    expect(refusal.message).toContain('https://www.sqlite.org/wal.html');
    expect(refusal.hint).toContain('cache.url');
    expect(existsSync(file)).toBe(false);
  });

  it('asks statfs about the folder that holds the file', () => {
    const asked: string[] = [];
    expect(() =>
      SqliteStore.open(path.join(dir, 'mnt', 'cache.sqlite'), {
        statfs: (folder) => {
          asked.push(folder);
          return { type: 0x65735546 };
        },
      }),
    ).toThrow(/network file system \(FUSE/);
    expect(asked).toEqual([path.join(dir, 'mnt')]);
  });

  it('is allowed where statfs cannot tell (another platform): nothing is known against the folder', async () => {
    const store = await openStore(
      { path: path.join(dir, 'cache.sqlite') },
      {
        statfs: () => {
          throw new Error('ENOSYS');
        },
      },
    );
    expect(store.isOpen).toBe(true);
    await store.close();
  });

  it('is accepted on this machine\'s local temporary folder (tmpfs, ext4, overlay...)', async () => {
    const type = statfsSync(dir).type;
    expect(networkFileSystemOf(type), `the test machine's ${os.tmpdir()} is itself a network file system (0x${type.toString(16)})`).toBeUndefined();
    const store = await openStore({ path: path.join(dir, 'cache.sqlite') });
    await store.put({ key: 'k', verdict: 'VALID', issues: [], suggestion: '', model: 'm', provider: 'p', checkedAt: '2026-12-04T00:00:00.000Z', confidence: 1, promptTokens: 1, completionTokens: 1, cachedTokens: 0 });
    expect(await store.count()).toBe(1);
    await store.close();
  });
});
