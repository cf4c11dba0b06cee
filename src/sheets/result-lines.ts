import type { OutputField } from './layout.js';
import type { Entry } from './table.js';

/** One line of a results tab as read: its id cell, its "Source row" link cell, its output cells. */
export interface ResultLine {
  /** 1-based row of the line in the results tab. */
  line: number;
  id: string;
  link: string;
  outputs: Record<OutputField, string>;
}

/** The link the bot writes in "Source row": #gid selects the data tab, range its row. */
export function sourceLink(spreadsheetId: string, gid: number, row: number): string {
  return `https://docs.google.com/spreadsheets/d/${spreadsheetId}/edit#gid=${gid}&range=${row}:${row}`;
}

/** The data tab (gid) and row a link the bot wrote points at; undefined for anything else (a person's edit). */
export function parseSourceLink(link: string): { gid: number; row: number } | undefined {
  const match = /#gid=(\d{1,12})&range=(\d{1,9}):\d{1,9}\s*$/.exec(link);
  if (!match) return undefined;
  return { gid: Number(match[1]), row: Number(match[2]) };
}

/**
 * Which line of a results tab belongs to which data row. A line is a data row's by the
 * data tab it links to (its gid: several targets, or configs, may share one results tab,
 * and their ids may be the same) and
 * - its id, when the row has one no other row of its tab has: the line follows the row
 *   wherever people sort it;
 * - else (an empty id, or one several rows share) its row number and id cell: each such
 *   row gets its own line and keeps it while it stays where it is. A row moved, or one
 *   that took its place, finds a line whose verdict is not its own; that verdict differs
 *   from the cache's for the row, so the row is written again (never shown a wrong one).
 * A line whose link is not the bot's (a person edited it) still matches by id alone.
 */
export class LineIndex {
  private readonly at = new Map<string, number>();

  constructor(
    private readonly gid: number,
    /** Ids used by more than one row of the data tab. */
    private readonly ambiguous: ReadonlySet<string> = new Set(),
  ) {}

  /** Registers a line read from the tab; the first line with a key keeps it. */
  add(line: number, id: string, link: string): void {
    const own = id.trim();
    const source = parseSourceLink(link);
    const keys = source ? [...(own === '' ? [] : [byId(source.gid, own)]), byRow(source.gid, source.row, own)] : own === '' ? [] : [byId(undefined, own)];
    for (const key of keys) if (!this.at.has(key)) this.at.set(key, line);
  }

  /** The line of the data row `row` with this id, if the tab has one. */
  find(id: string, row: number): number | undefined {
    const own = id.trim();
    if (this.keyedById(own)) return this.at.get(byId(this.gid, own)) ?? this.at.get(byId(undefined, own));
    return this.at.get(byRow(this.gid, row, own));
  }

  /** Records a new line given to a data row. */
  assign(id: string, row: number, line: number): void {
    const own = id.trim();
    this.at.set(this.keyedById(own) ? byId(this.gid, own) : byRow(this.gid, row, own), line);
  }

  private keyedById(id: string): boolean {
    return id !== '' && !this.ambiguous.has(id);
  }
}

const byId = (gid: number | undefined, id: string) => `id\u0000${gid ?? '?'}\u0000${id}`;
const byRow = (gid: number, row: number, id: string) => `row\u0000${gid}\u0000${row}\u0000${id}`;

/**
 * Shows each data row the results its line holds, so that up-to-date rows cost nothing
 * as in the default mode. Returns the ids more than one row uses (the index keys those
 * rows by row number), for the index and the run's warning.
 */
export function showResults(entries: Entry[], lines: readonly ResultLine[], gid: number): Set<string> {
  const ambiguous = duplicateIds(entries);
  const index = new LineIndex(gid, ambiguous);
  const byLine = new Map<number, ResultLine>();
  for (const line of lines) {
    index.add(line.line, line.id, line.link);
    byLine.set(line.line, line);
  }
  for (const entry of entries) {
    const at = index.find(entry.id, entry.row);
    const shown = at === undefined ? undefined : byLine.get(at);
    if (shown) entry.outputs = shown.outputs;
  }
  return ambiguous;
}

function duplicateIds(entries: readonly Entry[]): Set<string> {
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const { id } of entries) {
    const own = id.trim();
    if (own === '') continue;
    if (seen.has(own)) duplicates.add(own);
    seen.add(own);
  }
  return duplicates;
}
