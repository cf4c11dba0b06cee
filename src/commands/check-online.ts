import { EXIT } from './exit.js';
import { checkOnline, renderFindings, tally } from '../doctor/index.js';
import { redact } from '../errors.js';
import type { CommandIO, LoadedTargets } from './context.js';

/**
 * `check-config --online`, after the offline checks passed: contacts the spreadsheets and
 * the providers and prints one line per check. Exit 0 when all is well, 2 when something
 * must be fixed in the config or the sheet's sharing, 1 when something could not be
 * checked (the network, a service failing) and nothing else is wrong.
 */
export async function checkOnlineCommand(configFile: string, loaded: LoadedTargets, io: CommandIO): Promise<number> {
  const spreadsheets = new Set(loaded.targets.map((t) => t.sheets.spreadsheet_id)).size;
  const providers = loaded.targets[0]?.llm.providers.length ?? 0;
  for (const warning of loaded.warnings) io.stderr.write(`warning: ${warning}\n`);
  io.stdout.write(`${configFile}: the file is valid; checking online: ${spreadsheets} spreadsheet${spreadsheets === 1 ? '' : 's'}, ${providers} provider${providers === 1 ? '' : 's'} (nothing a person sees is changed)\n`);
  const findings = await checkOnline(loaded.targets, loaded.secrets, io.abort ?? io.stop);
  io.stdout.write(redact(renderFindings(findings), loaded.secrets.all));
  const { problems, unchecked } = tally(findings);
  return problems > 0 ? EXIT.usage : unchecked > 0 ? EXIT.fatal : EXIT.ok;
}
