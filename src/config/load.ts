import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument, type Document } from 'yaml';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { normalizeHeader } from '../sheets/layout.js';
import { sameTab } from '../sheets/a1.js';
import { extraInputHeaders, inputColumnProblems } from './columns.js';
import { interpolate } from './interpolate.js';
import { draftTargets, placeProblems, type TargetDraft } from './targets.js';
import { problemsFromZod, yamlHint, yamlProblem } from './problems.js';
import { DEFAULT_OUTPUT_HEADERS, configSchema, type RawConfig } from './schema.js';

export interface Config extends RawConfig {
  /** Where the config came from; relative paths in it are resolved against `dir`. */
  source: { file: string; dir: string };
  /** Which target of the file this is: its name (a single-target file: its tab) and index under targets. */
  target: { name: string; index: number | undefined };
}

/** Every target of a config file, each resolved to the config of a single tab. */
export interface Portfolio {
  source: { file: string; dir: string };
  targets: Config[];
}

/**
 * Reads, interpolates and validates a config file. Every problem is collected and
 * thrown at once as a ConfigError, so a user fixes the file in one pass.
 */
export function loadPortfolio(file: string, env: NodeJS.ProcessEnv = process.env): Portfolio {
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
  return parsePortfolio(source, absolute, env);
}

/** A file of one target (the tests', the benches'): its config; a file listing several is refused. */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Config {
  return onlyTarget(loadPortfolio(file, env));
}

export function parseConfig(source: string, file: string, env: NodeJS.ProcessEnv = process.env): Config {
  return onlyTarget(parsePortfolio(source, file, env));
}

/** Validates config text; `file` names it in messages and anchors relative paths. */
export function parsePortfolio(source: string, file: string, env: NodeJS.ProcessEnv = process.env): Portfolio {
  const document = parseDocument(source, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    const problems = document.errors.map((e) => yamlProblem(e, source));
    throw new ConfigError(file, problems, { hint: yamlHint(document.errors[0]?.code) });
  }
  const problems: ConfigProblem[] = [];
  const data = asRecord(interpolate(toData(document, file) ?? {}, env, problems));
  // A key whose variable is unset is already reported; its empty value would only add noise.
  const unset = new Set(problems.map((p) => p.path));
  const { drafts, problems: listProblems } = draftTargets(data);
  problems.push(...listProblems);
  const parsed = drafts.map((draft) => {
    const result = configSchema.safeParse(draft.data, { reportInput: true });
    const found = result.success ? [] : problemsFromZod(result.error, configSchema).filter((p) => !unset.has(p.path));
    return { result, found: [...found, ...crossKeyProblems(draft.data)] };
  });
  problems.push(...placeProblems(drafts, parsed.map((p) => p.found)));
  problems.push(...acrossTargets(drafts));
  const dir = path.dirname(path.resolve(file));
  const targets: Config[] = [];
  drafts.forEach((draft, i) => {
    const result = parsed[i]?.result;
    if (result?.success) targets.push(resolved(result.data, { file, dir }, { name: draft.name, index: draft.index }));
  });
  if (problems.length > 0 || targets.length !== drafts.length || targets.length === 0) throw new ConfigError(file, problems);
  return { source: { file, dir }, targets };
}

/**
 * The document's data. The parser accepts an alias to no anchor (`*a`) and too many
 * aliases (a billion-laughs file) and throws only here, with an error of its own.
 */
function toData(document: Document, file: string): unknown {
  try {
    return document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    const what = error instanceof Error ? error.message : String(error);
    throw new ConfigError(file, [{ path: '', message: `not valid YAML: ${what}` }], { hint: 'Define each &anchor before the *alias that uses it, or write the value out instead of the alias.' });
  }
}

/** Picks the targets a command works on: all of them, or the one `--target` names. */
export function selectTargets(portfolio: Portfolio, name: string | undefined): Config[] {
  if (name === undefined) return portfolio.targets;
  const wanted = portfolio.targets.find((t) => t.target.name.toLocaleLowerCase() === name.trim().toLocaleLowerCase());
  if (wanted) return [wanted];
  const names = portfolio.targets.map((t) => `"${t.target.name}"`).join(', ');
  throw new ConfigError(portfolio.source.file, [{ path: 'targets', message: `--target "${name}" is not a target of this config; its targets: ${names}` }]);
}

function onlyTarget(portfolio: Portfolio): Config {
  const [only, ...more] = portfolio.targets;
  if (!only || more.length > 0) {
    throw new ConfigError(portfolio.source.file, [{ path: 'targets', message: `this config lists ${portfolio.targets.length} targets where one was expected` }], { hint: 'Pass --target NAME to pick one.' });
  }
  return only;
}

function resolved(data: RawConfig, source: Config['source'], target: Config['target']): Config {
  const config: Config = { ...data, source, target };
  config.cache = { ...config.cache, path: path.resolve(source.dir, config.cache.path) };
  if (config.sheets.credentials_file !== undefined) {
    config.sheets = { ...config.sheets, credentials_file: path.resolve(source.dir, config.sheets.credentials_file) };
  }
  return config;
}

/**
 * Tabs of different targets in one spreadsheet must not be one tab: a target's data or
 * results tab is no other target's data or results tab, nor anyone's Runs tab (which
 * the targets of one spreadsheet may share: one line per target and run).
 */
function acrossTargets(drafts: readonly TargetDraft[]): ConfigProblem[] {
  if (drafts.length < 2) return [];
  const problems: ConfigProblem[] = [];
  const claimed: Array<{ spreadsheet: string; tab: string; who: string }> = [];
  const runsTabs: Array<{ spreadsheet: string; tab: string; who: string }> = [];
  for (const draft of drafts) {
    const sheets = asRecord(draft.data.sheets);
    const spreadsheet = typeof sheets.spreadsheet_id === 'string' ? sheets.spreadsheet_id.trim() : '';
    const who = `targets[${draft.index ?? 0}] ("${draft.name}")`;
    const own: Array<[string, unknown]> = [
      ['sheet', sheets.sheet],
      ['output.sheet', asRecord(draft.data.output).sheet],
    ];
    for (const [key, tab] of own) {
      if (typeof tab !== 'string' || tab.trim() === '') continue;
      const clash = [...claimed, ...runsTabs].find((c) => c.spreadsheet === spreadsheet && sameTab(c.tab, tab));
      if (clash) problems.push({ path: `targets[${draft.index ?? 0}].${key}`, message: `"${tab}" in spreadsheet ${spreadsheet} is already ${clash.who}; each target needs its own tabs` });
      else claimed.push({ spreadsheet, tab, who: `the ${key === 'sheet' ? 'data' : 'results'} tab of ${who}` });
    }
    const runs = asRecord(draft.data.report).runs_sheet;
    if (typeof runs === 'string' && runs.trim() !== '') {
      const clash = claimed.find((c) => c.spreadsheet === spreadsheet && sameTab(c.tab, runs));
      if (clash) problems.push({ path: `targets[${draft.index ?? 0}].report.runs_sheet`, message: `"${runs}" in spreadsheet ${spreadsheet} is ${clash.who}; give the Runs tab a tab of its own` });
      else runsTabs.push({ spreadsheet, tab: runs, who: `the Runs tab of ${who}` });
    }
  }
  return problems;
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
    ['report.dashboard_sheet', asRecord(root.report).dashboard_sheet],
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
