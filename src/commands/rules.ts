import type { Config } from '../config/index.js';
import { StatusValidatorError, redact } from '../errors.js';
import { PROMPT_VERSION } from '../llm/index.js';
import { primaryModel, sheetsClientFor } from '../pipeline/index.js';
import { replaceOwnTab, sameTab } from '../sheets/index.js';
import { EXIT, worstExit } from './exit.js';
import { loadTargets, systemClock, type CommandIO } from './context.js';
import { plural } from '../plural.js';

/** One tab to publish: where, what rulebook, and the targets it applies to. */
interface Publication {
  tab: string;
  config: Config;
  appliesTo: Config[];
}

const rulebookOf = (config: Config) => JSON.stringify([config.rules.allowed_statuses, config.rules.text.trim(), primaryModel(config)]);

/**
 * Where each target's rulebook goes: its own spreadsheet, in the --tab tab when every
 * target of that spreadsheet shares one rulebook (one tab, listing the targets), else
 * in a tab per target, "TAB (target)", so that no rulebook overwrites another. Decided
 * over all the file's targets, so that --target publishes where a full publish would.
 */
function plan(all: readonly Config[], selected: readonly Config[], tab: string, listed: boolean): Publication[] {
  const out: Publication[] = [];
  for (const config of selected) {
    const book = all.filter((t) => t.sheets.spreadsheet_id === config.sheets.spreadsheet_id);
    const shared = new Set(book.map(rulebookOf)).size === 1;
    const name = !listed || shared ? tab : `${tab} (${config.target.name})`;
    if (out.some((p) => p.config.sheets.spreadsheet_id === config.sheets.spreadsheet_id && sameTab(p.tab, name))) continue;
    out.push({ tab: name, config, appliesTo: shared ? book : [config] });
  }
  return out;
}

/** A tab of the same spreadsheet that the config names (data, results, Runs): publishing there would replace people's cells. */
function clashOf(all: readonly Config[], p: Publication, listed: boolean): string | undefined {
  for (const t of all.filter((c) => c.sheets.spreadsheet_id === p.config.sheets.spreadsheet_id)) {
    const taken: Array<[string, string | undefined]> = [
      ['sheets.sheet', t.sheets.sheet],
      ['output.sheet', t.output.sheet],
      ['report.runs_sheet', t.report.runs_sheet],
    ];
    const clash = taken.find(([, name]) => name !== undefined && sameTab(name, p.tab));
    if (clash) return `the rules tab "${p.tab}" is the tab of ${clash[0]} ("${clash[1] ?? ''}"${listed ? ` of target "${t.target.name}"` : ''}; Sheets ignores case in tab names); the rules go to a tab of their own, since publishing replaces its whole content. Pick another --tab.`;
  }
  return undefined;
}

/**
 * `rules publish`: writes each target's rulebook, allowed statuses and model to a tab of
 * its own spreadsheet, so the people in the sheet read the rules the bot applies. The
 * tab is the bot's: its content is replaced each time. A spreadsheet that cannot be
 * written is reported under its targets; the others are published; the worst exit code.
 */
export async function rulesPublishCommand(flags: { config: string; tab: string; target?: string }, io: CommandIO): Promise<number> {
  const { targets: all, listed, secrets } = loadTargets(flags.config, io);
  const selected = flags.target === undefined ? all : loadTargets(flags.config, io, flags.target).targets;
  const publications = plan(all, selected, flags.tab, listed);
  const clashes = publications.map((p) => clashOf(all, p, listed)).filter((c): c is string => c !== undefined);
  if (clashes.length > 0) {
    for (const clash of clashes) io.stderr.write(`Error: ${listed ? clash : clash.replace(/^the rules tab "([^"]*)"/, '--tab "$1"')}\n`);
    return EXIT.usage;
  }
  const codes: number[] = [];
  for (const p of publications) {
    const { config } = p;
    const rows: string[][] = [
      ['Rules applied by status-validator'],
      ['Published', (io.clock ?? systemClock).now().toISOString()],
      ['Model', primaryModel(config)],
      ['Prompt version', PROMPT_VERSION],
      ...(listed ? [['Applies to', ...p.appliesTo.map((t) => `${t.target.name} ("${t.sheets.sheet}")`)]] : []),
      [],
      ['Allowed statuses'],
      ...(config.rules.allowed_statuses ?? []).map((status) => ['', status]),
      [],
      ['Rules'],
      ...config.rules.text.trim().split('\n').map((line) => ['', line]),
    ];
    const names = p.appliesTo.map((t) => t.target.name).join(', ');
    try {
      await replaceOwnTab(sheetsClientFor(config, secrets, io.abort), p.tab, rows);
    } catch (error) {
      if (!listed || !(error instanceof StatusValidatorError)) throw error;
      codes.push(EXIT.fatal);
      io.stderr.write(`${redact(`Error: [${names}] the rules were not published to "${p.tab}" in ${config.sheets.spreadsheet_id}: ${error.message}${error.hint ? `\nFix: ${error.hint}` : ''}`, secrets.all)}\n`);
      continue;
    }
    codes.push(EXIT.ok);
    const lines = config.rules.text.trim().split('\n').length;
    const where = listed ? `[${names}] ` : '';
    io.stdout.write(`${where}Published ${plural((config.rules.allowed_statuses ?? []).length, 'allowed status', 'allowed statuses')} and ${plural(lines, 'line of rules', 'lines of rules')} to the "${p.tab}" tab${listed ? ` of ${config.sheets.spreadsheet_id}` : ''}.\n`);
  }
  return worstExit(codes);
}
