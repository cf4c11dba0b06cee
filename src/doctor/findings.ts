/**
 * What `check-config --online` found, one line each: what, where (the target, the config
 * key, the header) and the fix.
 *
 *  - ok: checked and fine;
 *  - info: fine, but worth knowing (an output column the first run will add);
 *  - warn: the run will work, perhaps not as meant (a new column next to a near-identical one);
 *  - problem: the run will fail or do the wrong thing until the config or the sharing is fixed;
 *  - unchecked: could not be checked (the network, a 5xx): says nothing either way.
 */
export type Level = 'ok' | 'info' | 'warn' | 'problem' | 'unchecked';

export interface Finding {
  level: Level;
  /** What the check is about: 'spreadsheet "1AbC…"', 'target "a"', 'provider "primary"'. */
  scope: string;
  /** The config key it concerns, e.g. columns.comment or llm.providers[0].api_key_env. */
  field?: string;
  what: string;
  fix?: string;
}

export interface Tally {
  problems: number;
  unchecked: number;
  warnings: number;
}

export function tally(findings: readonly Finding[]): Tally {
  let problems = 0;
  let unchecked = 0;
  let warnings = 0;
  for (const finding of findings) {
    if (finding.level === 'problem') problems++;
    else if (finding.level === 'unchecked') unchecked++;
    else if (finding.level === 'warn') warnings++;
  }
  return { problems, unchecked, warnings };
}

/** One finding; `field` and `fix` only when there is one. */
export function finding(level: Level, scope: string, what: string, extra: { field?: string | undefined; fix?: string | undefined } = {}): Finding {
  return { level, scope, what, ...(extra.field === undefined ? {} : { field: extra.field }), ...(extra.fix === undefined ? {} : { fix: extra.fix }) };
}
