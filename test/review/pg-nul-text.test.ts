/**
 * Review of the PostgreSQL store (issue 21): a text holding U+0000 (NUL).
 *
 * PostgreSQL's text type cannot hold the NUL character: "The character with the code zero cannot
 * be stored" (https://www.postgresql.org/docs/15/datatype-character.html), and the server refuses
 * such a parameter with SQLSTATE 22021 "invalid byte sequence for encoding "UTF8": 0x00". SQLite
 * (the embedded store every PostgreSQL user migrates from) keeps it. A model's answer is JSON;
 * "\u0000" in its suggestion decodes to a NUL, and a reviewer's note or a provider's error text may
 * hold one too. The PostgreSQL store sends these strings raw, so `put` fails on a malformed answer
 * (invariant 10: no answer, however malformed, fails more than its own row; the Store contract:
 * what `put` is given, `get` gives back, on both stores), and `cache migrate` of a SQLite file
 * holding one such verdict fails its whole chunk.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/cache/contract.js';
import { SqliteStore, type CachedVerdict } from '../../src/cache/index.js';
import { freshPostgresStore } from '../support/postgres-store.js';

const opened: Store[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) if (s.isOpen) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function pgStore(): Promise<Store> {
  const s = await freshPostgresStore({ commitPatienceMs: 2_000 });
  opened.push(s);
  return s;
}

function sqlite(): SqliteStore {
  const dir = mkdtempSync(path.join(tmpdir(), 'sv-nul-'));
  dirs.push(dir);
  return SqliteStore.open(path.join(dir, 'cache.sqlite'));
}

const verdict: CachedVerdict = {
  key: 'k-nul',
  verdict: 'INVALID',
  issues: ['status cell holds a stray \u0000 byte'],
  // As JSON.parse('"Write \\u0000 nothing"') gives it: a model's answer may hold it.
  suggestion: JSON.parse('"Write \\u0000 nothing"') as string,
  model: 'gpt-4o-mini',
  provider: 'openai',
  checkedAt: '2026-12-04T23:00:00.000Z',
  confidence: 0.5,
  promptTokens: 10,
  completionTokens: 5,
  cachedTokens: 0,
};

describe('PostgreSQL store: a NUL character in a text', () => {
  it('SQLite keeps such a verdict exactly (the behaviour the contract asks of both stores)', async () => {
    const s = sqlite();
    await s.put(verdict);
    expect(await s.get('k-nul')).toEqual(verdict);
    await s.close();
  });

  it('put of a verdict whose suggestion holds U+0000 resolves, and get gives it back exactly', async () => {
    const s = await pgStore();
    await s.put(verdict);
    expect(await s.get('k-nul')).toEqual(verdict);
  });

  it('a reviewer\'s note holding U+0000 is kept', async () => {
    const s = await pgStore();
    await s.putOverrides([{ key: 'k', verdict: 'VALID', note: 'ok\u0000', recordedAt: '2026-12-04T23:00:00.000Z' }]);
    expect((await s.getOverride('k'))?.note).toBe('ok\u0000');
  });

  it('a dump of SQLite rows holding U+0000 restores (cache migrate must not fail on one verdict)', async () => {
    const s = await pgStore();
    const added = await s.restore({ table: 'verdicts', rows: [{ key: 'a', verdict: 'VALID', issues: '[]', suggestion: 'x\u0000y', model: 'm', provider: 'p', checked_at: '2026-12-04T23:00:00.000Z', confidence: 1, prompt_tokens: 1, completion_tokens: 1, cached_tokens: 0 }] });
    expect(added).toBe(1);
    expect((await s.get('a'))?.suggestion).toBe('x\u0000y');
  });
});
