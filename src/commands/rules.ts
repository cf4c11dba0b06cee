import { PROMPT_VERSION } from '../llm/index.js';
import { primaryModel, sheetsClientFor } from '../pipeline/index.js';
import { replaceOwnTab, sameTab } from '../sheets/index.js';
import { load, systemClock, type CommandIO } from './context.js';

/**
 * `rules publish`: writes the rulebook, the allowed statuses and the model to a tab,
 * so the people in the sheet read the rules the bot applies. The tab is the bot's:
 * its content is replaced each time.
 */
export async function rulesPublishCommand(flags: { config: string; tab: string }, io: CommandIO): Promise<number> {
  const { config, secrets } = load(flags.config, io);
  // The rules tab is replaced wholesale: it must be none of the tabs the config names.
  const taken: Array<[string, string | undefined]> = [
    ['sheets.sheet', config.sheets.sheet],
    ['output.sheet', config.output.sheet],
    ['report.runs_sheet', config.report.runs_sheet],
  ];
  const clash = taken.find(([, tab]) => tab !== undefined && sameTab(tab, flags.tab));
  if (clash) {
    io.stderr.write(`Error: --tab "${flags.tab}" is the tab of ${clash[0]} ("${clash[1] ?? ''}"; Sheets ignores case in tab names); the rules go to a tab of their own, since publishing replaces its whole content. Pick another --tab.\n`);
    return 2;
  }
  const allowed = config.rules.allowed_statuses ?? [];
  const rows: string[][] = [
    ['Rules applied by status-validator'],
    ['Published', (io.clock ?? systemClock).now().toISOString()],
    ['Model', primaryModel(config)],
    ['Prompt version', PROMPT_VERSION],
    [],
    ['Allowed statuses'],
    ...allowed.map((status) => ['', status]),
    [],
    ['Rules'],
    ...config.rules.text.trim().split('\n').map((line) => ['', line]),
  ];
  await replaceOwnTab(sheetsClientFor(config, secrets, io.abort), flags.tab, rows);
  io.stdout.write(`Published ${allowed.length} allowed statuses and ${rows.length - 9 - allowed.length} lines of rules to the "${flags.tab}" tab.\n`);
  return 0;
}
