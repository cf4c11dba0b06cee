/**
 * Google Sheets API v4 emulator for tests: real HTTP on 127.0.0.1, driven by
 * the official `@googleapis/sheets` client via `rootUrl: emu.url`.
 */
export { startSheetsEmulator, type SheetsEmulator, type TabDecor } from './emulator.js';
export { columnIndex, columnName, parseA1, quoteTitle } from './a1.js';
export { QUOTA_WINDOW_MS } from './quota.js';
export { PAYLOAD_LIMIT_BYTES, URL_LIMIT_BYTES } from './errors.js';
export type { Role } from './sharing.js';
export type { DeveloperMetadata } from './developer-metadata.js';
export type {
  CallKind,
  CallOp,
  Cell,
  CellState,
  Dimension,
  Fault,
  FaultOptions,
  PendingCall,
  RecordedCall,
  RequestHook,
  ResponseHook,
  Scalar,
  SheetsEmulatorOptions,
  TabSeed,
  ValueInputOption,
  ValueRenderOption,
} from './types.js';
