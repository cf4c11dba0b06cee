import { CacheStore } from '../cache/index.js';
import { measureAgreement, renderAgreement } from '../eval/index.js';
import { keyerOf, layoutConfigOf, sheetsClientFor } from '../pipeline/index.js';
import { mapHeaders, quoteSheetName, readEntries } from '../sheets/index.js';
import { load, type CommandIO } from './context.js';

/**
 * `eval`: how often the model agrees with the reviewers, so a team can tell whether
 * its rules and model are good enough. One read of the sheet; no LLM call.
 */
export async function evalCommand(flags: { config: string; json?: boolean }, io: CommandIO): Promise<number> {
  const { config, secrets } = load(flags.config, io);
  if (!config.review.override_column) {
    io.stderr.write('Error: eval compares the model with reviewers, and no review.override_column is configured.\nFix: add review: { override_column: "Reviewer verdict" } to the config and let reviewers fill it.\n');
    return 2;
  }
  const values = await sheetsClientFor(config, secrets, io.abort).read(quoteSheetName(config.sheets.sheet));
  const layout = mapHeaders(values[config.sheets.header_row - 1] ?? [], layoutConfigOf(config));
  const { entries } = readEntries(values, layout);
  const store = CacheStore.open(config.cache.path);
  try {
    const agreement = measureAgreement(entries, keyerOf(config), (key) => store.get(key));
    io.stdout.write(flags.json ? `${JSON.stringify(agreement, null, 2)}\n` : renderAgreement(agreement));
    return 0;
  } finally {
    store.close();
  }
}
