/**
 * Reads of data rows as the Sheets emulator saw them: a values.get of a row range
 * ("'Tab'!N:M", the first chunk of a streamed read), or a values.batchGet of the header row
 * and a row range (each later chunk, read with its header in one call: src/sheets/chunks.ts).
 */
interface SeenCall {
  op: string;
  range?: string | undefined;
  ranges?: readonly string[] | undefined;
}

const ROWS = /!(\d+):(\d+)$/;

/** The rows [first, last] a read of rows asked for; undefined for any other call. */
export function rowRangeOf(call: SeenCall): [number, number] | undefined {
  const range = call.op === 'values.get' ? call.range : call.op === 'values.batchGet' ? call.ranges?.[call.ranges.length - 1] : undefined;
  const m = ROWS.exec(range ?? '');
  if (!m) return undefined;
  // A batchGet of one row range is the header alone: not a read of rows.
  if (call.op === 'values.batchGet' && (call.ranges?.length ?? 0) < 2) return undefined;
  return [Number(m[1]), Number(m[2])];
}

/** Whether the call read rows (either form above). */
export const readsRows = (call: SeenCall): boolean => rowRangeOf(call) !== undefined;
