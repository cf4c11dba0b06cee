/**
 * Who may do what with a spreadsheet, as Drive sharing decides it. Drive's roles
 * (https://developers.google.com/workspace/drive/api/guides/ref-roles): a "reader"
 * (Viewer) and a "commenter" may read but not edit; a "writer" (Editor) may edit.
 *
 * A caller whose role does not allow the call gets 403 PERMISSION_DENIED "The caller does
 * not have permission" — for a write by a viewer too. google.rpc.Code PERMISSION_DENIED:
 * "The caller does not have permission to execute the specified operation … This error
 * code does not imply the request is valid" (https://github.com/googleapis/googleapis/blob/master/google/rpc/code.proto):
 * the permission is checked before the request's content, so even a malformed write by
 * a viewer answers 403, never 400.
 */
import type { CallKind } from './types.js';
import type { Spreadsheet } from './workbook.js';

export type Role = 'writer' | 'commenter' | 'reader' | 'none';

interface Shares {
  /** The role of every caller not listed (default: writer, as the tests have always assumed). */
  anyone: Role;
  byCaller: Map<string, Role>;
}

const shares = new WeakMap<Spreadsheet, Shares>();

/** Shares the spreadsheet with one caller (its service-account email), or with every caller when `caller` is undefined. */
export function share(book: Spreadsheet, role: Role, caller?: string): void {
  const entry = shares.get(book) ?? { anyone: 'writer', byCaller: new Map<string, Role>() };
  if (caller === undefined) {
    entry.anyone = role;
    entry.byCaller.clear();
  } else {
    entry.byCaller.set(caller.toLowerCase(), role);
  }
  shares.set(book, entry);
}

/** Whether this caller's role allows a call of this kind. */
export function allowed(book: Spreadsheet, kind: CallKind, caller: string | undefined): boolean {
  const entry = shares.get(book);
  if (!entry) return true;
  const role = (caller === undefined ? undefined : entry.byCaller.get(caller.toLowerCase())) ?? entry.anyone;
  if (role === 'none') return false;
  return kind === 'read' || role === 'writer';
}
