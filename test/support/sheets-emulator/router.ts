/** Maps method + path to an API operation, and reads the caller from the bearer JWT. */
import type { CallKind, CallOp } from './types.js';

export interface Route {
  op: CallOp;
  kind: CallKind;
  spreadsheetId?: string;
  /** Decoded range of the single-range value endpoints. */
  range?: string;
}

const PREFIX = '/v4/spreadsheets/';
const READ_OPS: ReadonlySet<CallOp> = new Set<CallOp>(['get', 'values.get', 'values.batchGet', 'values.batchGetByDataFilter']);

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function opFor(method: string, rest: string): { op: CallOp; id?: string; range?: string } {
  const slash = rest.indexOf('/');
  const head = slash < 0 ? rest : rest.slice(0, slash);
  const tail = slash < 0 ? '' : rest.slice(slash);
  const colon = head.indexOf(':');
  const id = decode(colon < 0 ? head : head.slice(0, colon));
  const verb = colon < 0 ? '' : head.slice(colon + 1);
  if (!id) return { op: 'unknown' };
  if (tail === '') {
    if (verb === '' && method === 'GET') return { op: 'get', id };
    if (verb === 'batchUpdate' && method === 'POST') return { op: 'batchUpdate', id };
    return { op: 'unknown', id };
  }
  if (verb !== '') return { op: 'unknown', id };
  if (tail === '/values:batchGet' && method === 'GET') return { op: 'values.batchGet', id };
  if (tail === '/values:batchGetByDataFilter' && method === 'POST') return { op: 'values.batchGetByDataFilter', id };
  if (tail === '/values:batchUpdate' && method === 'POST') return { op: 'values.batchUpdate', id };
  if (tail === '/values:batchClear' && method === 'POST') return { op: 'values.batchClear', id };
  if (!tail.startsWith('/values/')) return { op: 'unknown', id };
  const raw = tail.slice('/values/'.length);
  // The client percent-encodes the whole range (':' included), so a literal
  // ':append' / ':clear' suffix can only be the custom verb.
  for (const [suffix, op] of [[':append', 'values.append'], [':clear', 'values.clear']] as const) {
    if (raw.endsWith(suffix)) {
      return method === 'POST' ? { op, id, range: decode(raw.slice(0, -suffix.length)) } : { op: 'unknown', id };
    }
  }
  if (method === 'GET') return { op: 'values.get', id, range: decode(raw) };
  if (method === 'PUT') return { op: 'values.update', id, range: decode(raw) };
  return { op: 'unknown', id };
}

export function route(method: string, path: string): Route {
  const found = path.startsWith(PREFIX) ? opFor(method, path.slice(PREFIX.length)) : { op: 'unknown' as const };
  const kind: CallKind = found.op === 'unknown' ? (method === 'GET' ? 'read' : 'write') : READ_OPS.has(found.op) ? 'read' : 'write';
  const out: Route = { op: found.op, kind };
  if (found.id !== undefined) out.spreadsheetId = found.id;
  if (found.range !== undefined) out.range = found.range;
  return out;
}

export interface BearerInfo {
  present: boolean;
  caller?: string;
}

/** Decodes (without verifying) the payload of a bearer JWT. */
export function readBearer(header: string | undefined): BearerInfo {
  const m = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  const token = m?.[1];
  if (!token) return { present: false };
  const payload = token.split('.')[1];
  if (!payload) return { present: true };
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const who = claims['email'] ?? claims['iss'] ?? claims['sub'];
    return typeof who === 'string' ? { present: true, caller: who } : { present: true };
  } catch {
    return { present: true };
  }
}
