/**
 * PostgreSQL's text cannot hold U+0000: "The character with the code zero cannot be stored"
 * (https://www.postgresql.org/docs/15/datatype-character.html; the server refuses such a
 * parameter with 22021). SQLite keeps it, and the Store contract means the same on both: what
 * `put` is given, `get` gives back. So every string crossing the driver (Db does it, in one
 * place) is escaped on the way in and unescaped on the way out, with U+0001 as the escape
 * character: NUL becomes U+0001 '0', U+0001 itself becomes U+0001 '1'. Text holding neither
 * (every key, time and JSON text: JSON.stringify escapes both as \u0000 and \u0001) is
 * sent and stored unchanged, so equality, ordering and the dumps of ordinary rows are as before.
 */
const ESCAPE = '\u0001';

export function encodeText(text: string): string {
  if (!text.includes('\u0000') && !text.includes(ESCAPE)) return text;
  // The escape character first, so that the escapes NUL becomes are not escaped again.
  return text.replaceAll(ESCAPE, `${ESCAPE}1`).replaceAll('\u0000', `${ESCAPE}0`);
}

/** The inverse of encodeText; an escape followed by anything else (never written by us) is left as it is. */
export function decodeText(text: string): string {
  if (!text.includes(ESCAPE)) return text;
  const [first = '', ...rest] = text.split(ESCAPE);
  return first + rest.map((part) => (part.startsWith('0') ? `\u0000${part.slice(1)}` : part.startsWith('1') ? `${ESCAPE}${part.slice(1)}` : `${ESCAPE}${part}`)).join('');
}

/** A statement's parameters as sent: strings (and arrays of them, for `= ANY($1::text[])` and unnest) escaped. */
export function encodeValues(values: readonly unknown[] | undefined): unknown[] | undefined {
  if (values === undefined) return undefined;
  return values.map((v) => (typeof v === 'string' ? encodeText(v) : Array.isArray(v) ? v.map((e: unknown) => (typeof e === 'string' ? encodeText(e) : e)) : v));
}

/** A result's string fields unescaped, in place. */
export function decodeRows<R>(rows: R[]): R[] {
  for (const row of rows) {
    const record = row as Record<string, unknown>;
    for (const name of Object.keys(record)) {
      const value = record[name];
      if (typeof value === 'string' && value.includes(ESCAPE)) record[name] = decodeText(value);
    }
  }
  return rows;
}
