export { SheetsClient, type SheetsClientOptions, type CellValues } from './client.js';
export { readServiceAccountKey, type ServiceAccountKey } from './credentials.js';
export { OUTPUT_FIELDS, mapHeaders, normalizeHeader, type Layout, type LayoutConfig, type OutputField } from './layout.js';
export { openSheet, type OpenedSheet } from './open.js';
export { fingerprintOf, readEntries, type Entry, type RowInputs } from './table.js';
export { SheetWriter, type PendingWrite, type WriterStats, type SkippedWrite } from './writer.js';
export { QuotaPacer } from './quota.js';
export { a1Range, columnLetter, quoteSheetName } from './a1.js';
export { appendToOwnTab, replaceOwnTab } from './tabs.js';
