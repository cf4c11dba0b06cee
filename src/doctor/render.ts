import { tally, type Finding, type Level } from './findings.js';

const LABEL: Readonly<Record<Level, string>> = { ok: 'ok', info: 'info', warn: 'WARN', problem: 'PROBLEM', unchecked: 'UNCHECKED' };

/** The findings grouped by what they are about, one line each, the fix under the line it fixes; then the verdict. */
export function renderFindings(findings: readonly Finding[]): string {
  const scopes: string[] = [];
  const byScope = new Map<string, Finding[]>();
  for (const f of findings) {
    const list = byScope.get(f.scope);
    if (list) list.push(f);
    else {
      byScope.set(f.scope, [f]);
      scopes.push(f.scope);
    }
  }
  const lines: string[] = [];
  for (const scope of scopes) {
    lines.push(`  ${scope}`);
    for (const f of byScope.get(scope) ?? []) {
      lines.push(`    ${LABEL[f.level].padEnd(9)} ${f.field ? `${f.field}: ` : ''}${f.what}`);
      if (f.fix && (f.level === 'problem' || f.level === 'warn' || f.level === 'unchecked')) lines.push(`    ${''.padEnd(9)} fix: ${f.fix}`);
    }
  }
  lines.push(verdictLine(findings));
  return `${lines.join('\n')}\n`;
}

export function verdictLine(findings: readonly Finding[]): string {
  const { problems, unchecked, warnings } = tally(findings);
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const warned = warnings > 0 ? ` (${plural(warnings, 'warning')})` : '';
  if (problems > 0) {
    const also = unchecked > 0 ? `; ${plural(unchecked, 'check')} could not be made` : '';
    return `Online check: ${plural(problems, 'problem')} to fix before a run${also}${warned}.`;
  }
  if (unchecked > 0) return `Online check: ${plural(unchecked, 'check')} could not be made (see UNCHECKED above); nothing wrong in the rest${warned}.`;
  return `Online check: OK, the sheet and the providers are ready for a run${warned}.`;
}
