/**
 * A strict parser of the Prometheus text exposition format (version 0.0.4,
 * https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format),
 * stricter than a scraper: it throws on anything the format does not allow or leaves
 * ambiguous, so that a test reading /metrics through it fails where Prometheus (or
 * `promtool check metrics`) would complain.
 *
 * Checked: metric and label names; label value escapes (only \\, \" and \n); values
 * (as Go's ParseFloat reads them); an optional integer timestamp; at most one HELP and one
 * TYPE per family, TYPE before its first sample; a family's samples together; no series
 * twice; counters never negative; histograms with an `le` on every bucket, buckets
 * cumulative, a +Inf bucket equal to _count, and a _sum; the text ends with a newline.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string | undefined;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

export function parseExposition(text: string): Map<string, Family> {
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const families = new Map<string, Family>();
  const closed = new Set<string>();
  const series = new Set<string>();
  let current: string | undefined;
  const lines = text.split('\n');
  lines.pop();
  lines.forEach((line, i) => {
    const at = `line ${i + 1}`;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const match = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (!match) {
        if (/^#\s*(HELP|TYPE)\b/.test(line)) throw new Error(`${at}: malformed ${line.slice(0, 40)}`);
        return;
      }
      const [, kind, name = '', rest = ''] = match;
      if (!METRIC_NAME.test(name)) throw new Error(`${at}: bad metric name ${name}`);
      if (closed.has(name)) throw new Error(`${at}: ${name} appears again after other families`);
      const family = families.get(name) ?? { name, type: 'untyped' as const, help: undefined, samples: [] };
      if (current !== undefined && current !== name) closed.add(current);
      current = name;
      families.set(name, family);
      if (kind === 'HELP') {
        if (family.help !== undefined) throw new Error(`${at}: second HELP for ${name}`);
        family.help = unescapeHelp(rest, at);
      } else {
        if (family.samples.length > 0) throw new Error(`${at}: TYPE of ${name} after its samples`);
        if ((family as { typed?: boolean }).typed) throw new Error(`${at}: second TYPE for ${name}`);
        if (!TYPES.has(rest)) throw new Error(`${at}: unknown type ${rest}`);
        family.type = rest as Family['type'];
        (family as { typed?: boolean }).typed = true;
      }
      return;
    }
    const sample = parseSample(line, at);
    const familyName = familyOf(sample.name, families);
    if (closed.has(familyName)) throw new Error(`${at}: sample of ${familyName} after other families`);
    if (current !== undefined && current !== familyName) closed.add(current);
    current = familyName;
    const family = families.get(familyName) ?? { name: familyName, type: 'untyped' as const, help: undefined, samples: [] };
    families.set(familyName, family);
    const key = `${sample.name}{${Object.entries(sample.labels).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;
    if (series.has(key)) throw new Error(`${at}: series ${key} twice`);
    series.add(key);
    family.samples.push(sample);
  });
  for (const family of families.values()) check(family);
  return families;
}

/** The family a sample belongs to: a histogram's or summary's _bucket/_sum/_count belong to it. */
function familyOf(name: string, families: Map<string, Family>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue;
    const base = name.slice(0, -suffix.length);
    const family = families.get(base);
    if (family && (family.type === 'histogram' || family.type === 'summary')) return base;
  }
  return name;
}

function parseSample(line: string, at: string): Sample {
  const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)(?: (-?\d+))?$/.exec(line);
  if (!match) throw new Error(`${at}: not a sample: ${line.slice(0, 80)}`);
  const [, name = '', rawLabels, rawValue = ''] = match;
  return { name, labels: rawLabels ? parseLabels(rawLabels.slice(1, -1), at) : {}, value: parseValue(rawValue, at) };
}

function parseLabels(text: string, at: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const name = /^[^=]*/.exec(text.slice(i))?.[0] ?? '';
    if (!LABEL_NAME.test(name) || name.startsWith('__')) throw new Error(`${at}: bad label name "${name}"`);
    if (Object.hasOwn(labels, name)) throw new Error(`${at}: label ${name} twice`);
    i += name.length;
    if (text[i] !== '=' || text[i + 1] !== '"') throw new Error(`${at}: label ${name} must be ="…"`);
    i += 2;
    let value = '';
    for (;;) {
      const c = text[i];
      if (c === undefined) throw new Error(`${at}: unterminated value of ${name}`);
      if (c === '"') break;
      if (c === '\n') throw new Error(`${at}: raw newline in a label value`);
      if (c === '\\') {
        const next = text[i + 1];
        if (next === '\\') value += '\\';
        else if (next === '"') value += '"';
        else if (next === 'n') value += '\n';
        else throw new Error(`${at}: bad escape \\${next ?? ''} in ${name}`);
        i += 2;
        continue;
      }
      value += c;
      i++;
    }
    labels[name] = value;
    i++;
    if (i < text.length) {
      if (text[i] !== ',') throw new Error(`${at}: expected , between labels`);
      i++;
      // A trailing comma is allowed by the format.
    }
  }
  return labels;
}

/**
 * A value "as Go's ParseFloat() reads it" (the format's words): decimal floats, and NaN,
 * Inf and Infinity in any case, the infinities signed or not (prom-client writes "Nan"
 * for a mean of nothing, which Prometheus takes). Hex floats and underscores are refused:
 * no exposer writes them.
 */
function parseValue(raw: string, at: string): number {
  if (/^nan$/i.test(raw)) return Number.NaN;
  if (/^\+?inf(inity)?$/i.test(raw)) return Number.POSITIVE_INFINITY;
  if (/^-inf(inity)?$/i.test(raw)) return Number.NEGATIVE_INFINITY;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw)) throw new Error(`${at}: bad value ${raw}`);
  return Number(raw);
}

function unescapeHelp(text: string, at: string): string {
  return text.replace(/\\(.?)/g, (_, c: string) => {
    if (c === '\\') return '\\';
    if (c === 'n') return '\n';
    throw new Error(`${at}: bad escape in HELP`);
  });
}

function check(family: Family): void {
  if (family.type === 'counter') {
    for (const s of family.samples) if (!(s.value >= 0)) throw new Error(`counter ${s.name} is ${s.value}`);
  }
  if (family.type !== 'histogram') return;
  const groups = new Map<string, { buckets: Array<{ le: number; value: number }>; sum?: number; count?: number }>();
  for (const s of family.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort(([a], [b]) => a.localeCompare(b)));
    const group = groups.get(key) ?? { buckets: [] };
    groups.set(key, group);
    if (s.name === `${family.name}_bucket`) {
      if (le === undefined) throw new Error(`${s.name} without le`);
      group.buckets.push({ le: parseValue(le, s.name), value: s.value });
    } else if (s.name === `${family.name}_sum`) group.sum = s.value;
    else if (s.name === `${family.name}_count`) group.count = s.value;
    else throw new Error(`histogram ${family.name} has a sample ${s.name}`);
  }
  for (const [key, g] of groups) {
    const sorted = [...g.buckets].sort((a, b) => a.le - b.le);
    for (let i = 1; i < sorted.length; i++) if ((sorted[i]?.value ?? 0) < (sorted[i - 1]?.value ?? 0)) throw new Error(`histogram ${family.name}${key}: buckets not cumulative`);
    const inf = sorted.at(-1);
    if (!inf || inf.le !== Number.POSITIVE_INFINITY) throw new Error(`histogram ${family.name}${key}: no +Inf bucket`);
    if (g.count === undefined || g.sum === undefined) throw new Error(`histogram ${family.name}${key}: _count or _sum missing`);
    if (inf.value !== g.count) throw new Error(`histogram ${family.name}${key}: +Inf bucket ${inf.value} ≠ _count ${g.count}`);
  }
}

/** The value of one series, or undefined. */
export function valueOf(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const family of families.values()) {
    for (const s of family.samples) if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value;
  }
  return undefined;
}
