import { closest, type Config } from '../config/index.js';
import { layoutConfigOf } from '../pipeline/index.js';
import { columnLetter, headerPositions, mapHeaders, normalizeHeader } from '../sheets/index.js';
import { finding, type Finding } from './findings.js';

/** A header the config names: its key, its text, and whether the run adds it when missing. */
export interface WantedHeader {
  key: string;
  header: string;
  created: boolean;
}

/** Every header a run of this target looks for in its tab's header row, as the run lists them (layoutConfigOf). */
export function wantedHeaders(config: Config): WantedHeader[] {
  const layout = layoutConfigOf(config);
  const wanted: WantedHeader[] = [];
  for (const [field, header] of Object.entries(layout.inputs)) if (header !== undefined) wanted.push({ key: `columns.${field}`, header, created: false });
  for (const extra of layout.extras ?? []) wanted.push({ key: `columns.inputs.${extra.key}`, header: extra.header, created: false });
  // In results-tab mode the outputs go to their own tab: the data tab gets none.
  if (layout.outputsInPlace ?? true) for (const [field, header] of Object.entries(layout.outputs)) wanted.push({ key: `output.columns.${field}`, header, created: true });
  if (layout.review?.recheck !== undefined) wanted.push({ key: 'review.recheck_column', header: layout.review.recheck, created: true });
  if (layout.review?.override !== undefined) wanted.push({ key: 'review.override_column', header: layout.review.override, created: true });
  return wanted;
}

/**
 * Matches the target's headers against its tab's header row with the run's own code
 * (headerPositions: trimmed, inner spaces folded, case-insensitive), one finding per
 * header, with a did-you-mean among the row's headers for the missing ones. Last, the
 * run's mapHeaders gets the row too, so that nothing it would refuse passes here.
 */
export function checkHeaders(config: Config, scope: string, headerCells: readonly string[]): Finding[] {
  const row = config.sheets.header_row;
  const tab = config.sheets.sheet;
  const where = `row ${row} of tab "${tab}"`;
  const positions = headerPositions(headerCells);
  const wanted = wantedHeaders(config);
  const present = uniqueHeaders(headerCells);
  // A near header another key already names is that key's column, not a typo of this one.
  const named = new Set(wanted.map((w) => normalizeHeader(w.header)));
  const candidates = present.filter((h) => !named.has(normalizeHeader(h)));
  const findings: Finding[] = [];
  let inputMissing = false;
  const toAdd: Array<{ key: string; header: string }> = [];
  for (const { key, header, created } of wanted) {
    const found = positions.get(normalizeHeader(header)) ?? [];
    if (found.length === 1) {
      findings.push(finding('ok', scope, `"${header}" is column ${columnLetter(found[0] ?? 1)}`, { field: key }));
      continue;
    }
    if (found.length > 1) {
      findings.push(
        finding('problem', scope, `"${header}" appears ${found.length} times in ${where} (columns ${found.map(columnLetter).join(', ')}): the run stops on a doubled header`, {
          field: key,
          fix: 'Rename the extra columns in the sheet so each header is unique.',
        }),
      );
      if (!created) inputMissing = true;
      continue;
    }
    const near = closest(header, candidates);
    if (!created) {
      inputMissing = true;
      findings.push(finding('problem', scope, `no column "${header}" in ${where}${near ? ` (did you mean "${near}"?)` : ''}`, { field: key, fix: missingInputFix(key, header, near, present, row) }));
    } else if (near) {
      findings.push(
        finding('warn', scope, `"${header}" is not in ${where} (did you mean "${near}"?): the first run would add a new column "${header}" beside it`, {
          field: key,
          fix: `Set ${key} to "${near}" to use the existing column, or leave it to get a new one.`,
        }),
      );
    } else {
      toAdd.push({ key, header });
    }
  }
  if (toAdd.length > 0) {
    const list = toAdd.map((a) => `"${a.header}"`).join(', ');
    const field = toAdd.length === 1 ? toAdd[0]?.key : commonParent(toAdd.map((a) => a.key));
    findings.push(finding('info', scope, `${list} ${toAdd.length === 1 ? 'is' : 'are'} not in ${where} yet: the first run adds ${toAdd.length === 1 ? 'it' : 'them'} after the last used column`, { field }));
  }
  if (!inputMissing) findings.push(...mapperVerdict(config, scope, headerCells));
  return findings;
}

function missingInputFix(key: string, header: string, near: string | undefined, present: readonly string[], row: number): string {
  if (present.length === 0) return `Row ${row} is empty: set sheets.header_row to the row that holds the headers.`;
  if (near) return `Set ${key} to "${near}", or rename the column in the sheet to "${header}".`;
  return `Set ${key} to one of the headers in row ${row} (${present.map((h) => `"${h}"`).join(', ')}), or set sheets.header_row if the headers are on another row.`;
}

/** What the run's own header mapping says of this row, when it refuses it; nothing when it accepts it. */
function mapperVerdict(config: Config, scope: string, headerCells: readonly string[]): Finding[] {
  try {
    mapHeaders(headerCells, layoutConfigOf(config));
    return [];
  } catch (error) {
    const hint = (error as { hint?: unknown }).hint;
    return [finding('problem', scope, error instanceof Error ? error.message : String(error), { field: 'columns', ...(typeof hint === 'string' ? { fix: hint } : {}) })];
  }
}

/** output.columns for output.columns.verdict and output.columns.issues; the keys themselves when they differ. */
function commonParent(keys: readonly string[]): string {
  const parents = new Set(keys.map((k) => k.slice(0, k.lastIndexOf('.'))));
  return parents.size === 1 ? [...parents][0] ?? keys.join(', ') : keys.join(', ');
}

/** The row's non-empty header texts, trimmed, each once (as folded). */
function uniqueHeaders(cells: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const cell of cells) {
    const text = cell.trim();
    if (text === '' || seen.has(normalizeHeader(text))) continue;
    seen.add(normalizeHeader(text));
    out.push(text);
  }
  return out;
}
