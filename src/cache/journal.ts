import { createHash } from 'node:crypto';
import { appendFileSync, closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Store } from './contract.js';
import type { CachedVerdict } from './store.js';

/**
 * Answers paid for while the PostgreSQL cache was unreachable (their commit failed past the
 * patience), kept on this machine until a run commits them (invariant 9: never paid for
 * twice, not after an outage). A small file of JSON lines in the OS temp folder, keyed by a
 * hash of the store's location (host:port/database: never the password), each line fsynced
 * before the run goes on. Nothing in it reaches the sheet: the next run commits the lines to
 * the store first (invariant 2), and only then do they count as known.
 */
export class VerdictJournal {
  constructor(readonly file: string) {}

  static forStore(store: Pick<Store, 'location'>, folder: string = os.tmpdir()): VerdictJournal {
    const hash = createHash('sha256').update(store.location).digest('hex').slice(0, 16);
    return new VerdictJournal(path.join(folder, `status-validator-uncommitted-${hash}.jsonl`));
  }

  /** Keeps one answer; durable when this returns. */
  keep(verdict: CachedVerdict): void {
    const fd = openSync(this.file, 'a', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(verdict)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Commits every kept answer to the store (a newer verdict the store holds for a key wins),
   * then forgets them: the number committed. The file is first moved aside, so that answers
   * another process keeps meanwhile go to a new file; a commit failing puts the rest back.
   */
  async commitTo(store: Pick<Store, 'putUnlessNewer'>): Promise<number> {
    const aside = `${this.file}.${process.pid}.committing`;
    try {
      renameSync(this.file, aside);
    } catch {
      return 0; // No journal: nothing was left uncommitted.
    }
    const lines = readFileSync(aside, 'utf8').split('\n').filter((l) => l.trim() !== '');
    let committed = 0;
    try {
      for (const line of lines) {
        const verdict = parseVerdict(line);
        if (verdict) await store.putUnlessNewer(verdict, verdict.checkedAt);
        committed++;
      }
    } catch (error) {
      const rest = lines.slice(committed);
      if (rest.length > 0) appendFileSync(this.file, `${rest.join('\n')}\n`, { mode: 0o600 });
      unlinkSync(aside);
      throw error;
    }
    unlinkSync(aside);
    return committed;
  }
}

/** A line as written by keep(); anything else (a torn last line after a crash) is skipped. */
export function parseVerdict(line: string): CachedVerdict | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  const v = value as Partial<CachedVerdict> | null;
  if (!v || typeof v !== 'object' || typeof v.key !== 'string' || (v.verdict !== 'VALID' && v.verdict !== 'INVALID') || typeof v.checkedAt !== 'string') return undefined;
  if (!Array.isArray(v.issues) || !v.issues.every((i) => typeof i === 'string') || typeof v.suggestion !== 'string' || typeof v.model !== 'string' || typeof v.provider !== 'string') return undefined;
  const numbers = [v.confidence, v.promptTokens, v.completionTokens, v.cachedTokens];
  if (!numbers.every((n) => typeof n === 'number' && Number.isFinite(n))) return undefined;
  return { key: v.key, verdict: v.verdict, issues: v.issues, suggestion: v.suggestion, model: v.model, provider: v.provider, checkedAt: v.checkedAt, confidence: v.confidence as number, promptTokens: v.promptTokens as number, completionTokens: v.completionTokens as number, cachedTokens: v.cachedTokens as number };
}
