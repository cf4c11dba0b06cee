import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { normalizeHeader } from '../sheets/layout.js';
import { sameTab } from '../sheets/a1.js';
import { extraInputHeaders, inputColumnProblems } from './columns.js';
import { interpolate } from './interpolate.js';
import { problemsFromZod } from './problems.js';
import { DEFAULT_OUTPUT_HEADERS, configSchema, type RawConfig } from './schema.js';

export interface Config extends RawConfig {
  /** Where the config came from; relative paths in it are resolved against `dir`. */
  source: { file: string; dir: string };
}

/**
 * Reads, interpolates and validates a config file. Every problem is collected and
 * thrown at once as a ConfigError, so a user fixes the file in one pass.
 */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Config {
  const absolute = path.resolve(file);
  let source: string;
  try {
    source = readFileSync(absolute, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'the file does not exist' : `it cannot be read (${code ?? String(error)})`;
    throw new ConfigError(file, [{ path: '', message: why }], {
      hint: 'Pass --config with the path of your YAML config; config.example.yaml is a starting point.',
    });
  }
  return parseConfig(source, absolute, env);
}

/** Validates config text; `file` names it in messages and anchors relative paths. */
export function parseConfig(source: string, file: string, env: NodeJS.ProcessEnv = process.env): Config {
  const document = parseDocument(source, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new ConfigError(
      file,
      document.errors.map((e) => ({ path: '', message: `not valid YAML: ${e.message.split('\n')[0] ?? e.message}` })),
    );
  }
  const problems: ConfigProblem[] = [];
  const data = interpolate(document.toJS() ?? {}, env, problems);
  const parsed = configSchema.safeParse(data, { reportInput: true });
  if (!parsed.success) {
    // A key whose variable is unset is already reported; its empty value would only add noise.
    const unset = new Set(problems.map((p) => p.path));
    problems.push(...problemsFromZod(parsed.error, configSchema).filter((p) => !unset.has(p.path)));
  }
  problems.push(...crossKeyProblems(data));
  if (problems.length > 0 || !parsed.success) throw new ConfigError(file, problems);

  const dir = path.dirname(path.resolve(file));
  const config: Config = { ...parsed.data, source: { file, dir } };
  config.cache = { ...config.cache, path: path.resolve(dir, config.cache.path) };
  if (config.sheets.credentials_file !== undefined) {
    config.sheets = { ...config.sheets, credentials_file: path.resolve(dir, config.sheets.credentials_file) };
  }
  return config;
}


/**
 * Rules that span several keys, which the schema alone cannot express. They read the
 * raw (interpolated) data, so that they are reported together with schema problems.
 */
function crossKeyProblems(data: unknown): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const root = asRecord(data);
  const headers: Array<[string, unknown]> = [
    ...Object.entries(asRecord(root.columns)).map(([k, h]) => [`columns.${k}`, h] as [string, unknown]),
    ...extraInputHeaders(root.columns),
    ...Object.entries({ ...DEFAULT_OUTPUT_HEADERS, ...asRecord(asRecord(root.output).columns) }).map(([k, h]) => [`output.columns.${k}`, h] as [string, unknown]),
    ...Object.entries(asRecord(root.review))
      .filter(([k]) => k.endsWith('_column'))
      .map(([k, h]) => [`review.${k}`, h] as [string, unknown]),
  ];
  const seen = new Map<string, string>();
  for (const [key, header] of headers) {
    if (typeof header !== 'string' || header.trim() === '') continue;
    // The same folding as the header matching in the sheet: two names it equates are one column.
    const normal = normalizeHeader(header);
    const earlier = seen.get(normal);
    if (earlier) problems.push({ path: key, message: `header "${header}" is already used by ${earlier}; each column needs its own header` });
    else seen.set(normal, key);
  }
  problems.push(...inputColumnProblems(root.columns, root.rules));
  const output = asRecord(root.output);
  if (typeof output.sheet === 'string') {
    if (typeof asRecord(root.columns).id !== 'string') {
      problems.push({ path: 'output.sheet', message: 'a results tab needs columns.id: results are matched to rows by their id' });
    }
  }
  problems.push(...tabCollisions(root));
  const providers = asRecord(root.llm).providers;
  const names = new Set<string>();
  (Array.isArray(providers) ? providers : []).forEach((provider, i) => {
    const name = asRecord(provider).name;
    if (typeof name !== 'string') return;
    if (names.has(name)) problems.push({ path: `llm.providers[${i}].name`, message: `provider name "${name}" is used twice; names must be unique` });
    names.add(name);
  });
  return problems;
}

/** The tabs a config names, by key: each must be its own tab. */
function configuredTabs(root: Record<string, unknown>): Array<[key: string, tab: string]> {
  const tabs: Array<[string, unknown]> = [
    ['sheets.sheet', asRecord(root.sheets).sheet],
    ['output.sheet', asRecord(root.output).sheet],
    ['report.runs_sheet', asRecord(root.report).runs_sheet],
  ];
  return tabs.filter((entry): entry is [string, string] => typeof entry[1] === 'string' && entry[1].trim() !== '');
}

/**
 * The data tab, the results tab and the Runs tab must differ: run rows appended into the
 * data, or results upserted over it, would change people's cells. Compared as Sheets
 * compares tab names: it refuses two tabs whose names differ only in case.
 */
function tabCollisions(root: Record<string, unknown>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const seen: Array<[string, string]> = [];
  for (const [key, tab] of configuredTabs(root)) {
    const earlier = seen.find(([, other]) => sameTab(other, tab));
    if (earlier) problems.push({ path: key, message: `"${tab}" is the same tab as ${earlier[0]} ("${earlier[1]}"; Sheets ignores case in tab names); give each its own tab` });
    else seen.push([key, tab]);
  }
  return problems;
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
