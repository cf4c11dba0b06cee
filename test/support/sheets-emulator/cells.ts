/** Cell value conversions: how input is interpreted and how stored values render. */
import { invalidArgument } from './errors.js';
import type { Scalar, ValueInputOption, ValueRenderOption } from './types.js';

/** Input-option flags stored per cell (compactly, as small integers). */
export const INPUT_NONE = 0;
export const INPUT_RAW = 1;
export const INPUT_USER = 2;
export type InputFlag = typeof INPUT_NONE | typeof INPUT_RAW | typeof INPUT_USER;

export function inputFlag(option: ValueInputOption): InputFlag {
  return option === 'RAW' ? INPUT_RAW : INPUT_USER;
}

export function flagOption(flag: number | undefined): ValueInputOption | undefined {
  if (flag === INPUT_RAW) return 'RAW';
  if (flag === INPUT_USER) return 'USER_ENTERED';
  return undefined;
}

export type Evaluate = (formula: string) => Scalar;

export const defaultEvaluate: Evaluate = () => '#NAME?';

/** What a single input value does to its cell. */
export type CellWrite =
  | { kind: 'skip' }
  | { kind: 'clear' }
  | { kind: 'set'; value: Scalar; formula: string | undefined };

const SKIP: CellWrite = { kind: 'skip' };
const CLEAR: CellWrite = { kind: 'clear' };
const NUMERIC = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const BOOLEAN = /^(true|false)$/i;

function userEntered(text: string, evaluate: Evaluate): CellWrite {
  if (text.startsWith("'")) {
    const rest = text.slice(1);
    return rest ? { kind: 'set', value: rest, formula: undefined } : CLEAR;
  }
  if (text.length > 1 && text.startsWith('=')) return { kind: 'set', value: evaluate(text), formula: text };
  const trimmed = text.trim();
  if (NUMERIC.test(trimmed)) return { kind: 'set', value: Number(trimmed), formula: undefined };
  if (BOOLEAN.test(trimmed)) return { kind: 'set', value: trimmed.toUpperCase() === 'TRUE', formula: undefined };
  return { kind: 'set', value: text, formula: undefined };
}

/**
 * Interprets one value of a write. `null`/`undefined` leave the cell alone,
 * `""` clears it (Google's documented behaviour).
 */
export function interpretInput(raw: unknown, option: ValueInputOption, evaluate: Evaluate, where: string): CellWrite {
  if (raw === null || raw === undefined) return SKIP;
  if (raw === '') return CLEAR;
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw)) throw invalidArgument(`Invalid value at '${where}': ${String(raw)}`);
    return { kind: 'set', value: raw, formula: undefined };
  }
  if (typeof raw === 'boolean') return { kind: 'set', value: raw, formula: undefined };
  if (typeof raw === 'string') {
    return option === 'RAW' ? { kind: 'set', value: raw, formula: undefined } : userEntered(raw, evaluate);
  }
  throw invalidArgument(`Invalid value at '${where}' (type.googleapis.com/google.protobuf.ListValue), ${JSON.stringify(raw)}`);
}

export function formatNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e15) return String(n);
  return String(Number(n.toPrecision(15))).replace('e', 'E');
}

export function formatScalar(v: Scalar): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  return formatNumber(v);
}

export function renderCell(value: Scalar, formula: string | undefined, option: ValueRenderOption): Scalar {
  if (option === 'FORMATTED_VALUE') return formatScalar(value);
  if (option === 'FORMULA' && formula !== undefined) return formula;
  return value;
}

const RENDER_OPTIONS: readonly string[] = ['FORMATTED_VALUE', 'UNFORMATTED_VALUE', 'FORMULA'];
const INPUT_OPTIONS: readonly string[] = ['RAW', 'USER_ENTERED'];

export function parseRenderOption(raw: unknown, field = 'value_render_option'): ValueRenderOption {
  if (raw === undefined || raw === null || raw === '') return 'FORMATTED_VALUE';
  if (typeof raw === 'string' && RENDER_OPTIONS.includes(raw)) return raw as ValueRenderOption;
  throw invalidArgument(
    `Invalid value at '${field}' (type.googleapis.com/google.apps.sheets.v4.ValueRenderOption), ${JSON.stringify(raw)}`,
  );
}

export function parseInputOption(raw: unknown, field = 'value_input_option'): ValueInputOption {
  if (raw === undefined || raw === null || raw === '' || raw === 'INPUT_VALUE_OPTION_UNSPECIFIED') {
    throw invalidArgument(`'valueInputOption' is required but not specified`);
  }
  if (typeof raw === 'string' && INPUT_OPTIONS.includes(raw)) return raw as ValueInputOption;
  throw invalidArgument(
    `Invalid value at '${field}' (type.googleapis.com/google.apps.sheets.v4.ValueInputOption), ${JSON.stringify(raw)}`,
  );
}
