import type { Config } from '../config/index.js';
import type { LookPiece } from '../sheets/index.js';

/**
 * The columns output.format dresses: the verdict column (on the results tab in
 * results-tab mode, whose header row is row 1), and the reviewer columns of the data tab.
 */
export function lookPieces(config: Config): LookPiece[] {
  if (!config.output.format) return [];
  const dataTab = { tab: config.sheets.sheet, headerRow: config.sheets.header_row };
  const pieces: LookPiece[] = [
    config.output.sheet === undefined ? { ...dataTab, header: config.output.columns.verdict, kind: 'verdict' } : { tab: config.output.sheet, headerRow: 1, header: config.output.columns.verdict, kind: 'verdict' },
  ];
  if (config.review.recheck_column !== undefined) pieces.push({ ...dataTab, header: config.review.recheck_column, kind: 'recheck' });
  if (config.review.override_column !== undefined) pieces.push({ ...dataTab, header: config.review.override_column, kind: 'reviewer' });
  return pieces;
}
