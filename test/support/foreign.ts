/**
 * "The bot changes no cell but its own" (invariant 1), counted: a guard snapshots every
 * cell of the watched tabs and, at each checkpoint, counts the cells outside the bot's
 * own columns that changed since the last snapshot. A person's edit during a run is done
 * between `checkpoint()` and `rebase()`, so that only the bot's changes are counted.
 *
 * The bot's own columns at a checkpoint: those headed by one of its headers in the last
 * snapshot, and those that were wholly empty there (header and every data cell) and now
 * carry one of its headers — the only place a new output column may go.
 */
import { normalizeHeader } from '../../src/sheets/index.js';
import type { SheetsEmulator } from './sheets-emulator/index.js';

export interface ForeignChange {
  tab: string;
  /** 1-based, as people count. */
  row: number;
  column: number;
  before: string;
  after: string;
}

export interface WatchedTab {
  tab: string;
  /** Headers of the columns the bot may write (outputs, the recheck box; a results tab's own columns). */
  own: readonly string[];
  headerRow?: number;
}

export interface ForeignGuard {
  /** Counts the foreign cells changed since the last snapshot, then snapshots again. */
  checkpoint(): ForeignChange[];
  /** Snapshots without counting (right after a person's edit). */
  rebase(): void;
  /** Every foreign change counted so far. */
  readonly changes: ForeignChange[];
}

export function foreignGuard(sheets: SheetsEmulator, spreadsheetId: string, watched: readonly WatchedTab[]): ForeignGuard {
  const read = (tab: string) => (sheets.tabs(spreadsheetId).includes(tab) ? sheets.values(spreadsheetId, tab) : []);
  let last = new Map(watched.map((w) => [w.tab, read(w.tab)]));
  const changes: ForeignChange[] = [];
  const rebase = () => {
    last = new Map(watched.map((w) => [w.tab, read(w.tab)]));
  };
  return {
    changes,
    rebase,
    checkpoint() {
      const found: ForeignChange[] = [];
      for (const w of watched) {
        const before = last.get(w.tab) ?? [];
        const after = read(w.tab);
        const own = ownColumns(before, after, w);
        const rows = Math.max(before.length, after.length);
        for (let r = 0; r < rows; r++) {
          const width = Math.max(before[r]?.length ?? 0, after[r]?.length ?? 0);
          for (let c = 0; c < width; c++) {
            if (own.has(c)) continue;
            const was = before[r]?.[c] ?? '';
            const now = after[r]?.[c] ?? '';
            if (was !== now) found.push({ tab: w.tab, row: r + 1, column: c + 1, before: was, after: now });
          }
        }
      }
      changes.push(...found);
      rebase();
      return found;
    },
  };
}

function ownColumns(before: string[][], after: string[][], w: WatchedTab): Set<number> {
  const headerIndex = (w.headerRow ?? 1) - 1;
  const mine = new Set(w.own.map(normalizeHeader));
  const isMine = (cell: string | undefined) => cell !== undefined && cell.trim() !== '' && mine.has(normalizeHeader(cell));
  const own = new Set<number>();
  (before[headerIndex] ?? []).forEach((cell, c) => {
    if (isMine(cell)) own.add(c);
  });
  (after[headerIndex] ?? []).forEach((cell, c) => {
    if (isMine(cell) && before.every((row) => (row[c] ?? '') === '')) own.add(c);
  });
  return own;
}
