import type { Entry } from '../sheets/index.js';
import type { OutputCells } from './cells.js';

export interface Override {
  verdict: 'VALID' | 'INVALID';
  note: string;
}

/**
 * A reviewer's verdict from the override cell: VALID or INVALID (any case), then an
 * optional note after a space, colon, dash or comma. `undefined` when the cell is
 * empty; `null` when it says something else (reported, then ignored).
 */
export function parseOverride(cell: string): Override | null | undefined {
  const text = cell.trim();
  if (text === '') return undefined;
  const match = /^(valid|invalid)\b[\s:,;.–—-]*([\s\S]*)$/i.exec(text);
  if (!match) return null;
  return { verdict: (match[1] ?? '').toUpperCase() as Override['verdict'], note: (match[2] ?? '').trim() };
}

/** The output cells showing a reviewer's verdict: marked as the reviewer's, never the model's. */
export function overrideCells(override: Override, checkedAt: string): OutputCells {
  return { verdict: `${override.verdict} (reviewer)`, issues: override.note, suggestion: '', checked_at: checkedAt, model: 'reviewer' };
}

/** A ticked checkbox reads TRUE; people also type yes, x or ✓. */
export function isTicked(cell: string): boolean {
  return /^(true|yes|y|x|1|✓|✔|☑)$/i.test(cell.trim());
}

/** Whether the verdict in the row's checked-at cell is older than `maxAgeMs` (or unreadable). */
export function isStale(entry: Entry, maxAgeMs: number, now: number): boolean {
  const checked = Date.parse(entry.outputs.checked_at);
  if (!Number.isFinite(checked)) return entry.outputs.checked_at.trim() !== '';
  return now - checked > maxAgeMs;
}
