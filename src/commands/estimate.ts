import { CacheStore } from '../cache/index.js';
import { loadTokenizer, priceOf, priceTable } from '../llm/index.js';
import { keyerOf, layoutConfigOf, localDate, lookupIn, primaryModel, promptRulesOf, selectWork, sheetsClientFor, staleAfterOf } from '../pipeline/index.js';
import { formatUsd } from '../report/index.js';
import { mapHeaders, quoteSheetName, readEntries } from '../sheets/index.js';
import { estimateModes, estimatePacking, type ModeEstimate } from '../estimate/index.js';
import { load, systemClock, type CommandIO } from './context.js';

/** Expected answer length when the cache has no history yet: a short verdict and a rewrite. */
const DEFAULT_COMPLETION_TOKENS = 120;

/**
 * `estimate`: reads the sheet and says what a run would send — calls, tokens and
 * dollars in each mode — before anything is spent. One read call, no LLM call.
 */
export async function estimateCommand(flags: { config: string; json?: boolean; force?: boolean }, io: CommandIO): Promise<number> {
  const { config, secrets } = load(flags.config, io);
  const tokenizer = loadTokenizer();
  const values = await sheetsClientFor(config, secrets, io.abort).read(quoteSheetName(config.sheets.sheet));
  const layout = mapHeaders(values[config.sheets.header_row - 1] ?? [], layoutConfigOf(config));
  const { entries } = readEntries(values, layout);
  const store = CacheStore.open(config.cache.path);
  const now = (io.clock ?? systemClock).now();
  const packing = estimatePacking(config.llm);
  let modes: ModeEstimate[];
  let rows: number;
  try {
    const selection = selectWork(entries, keyerOf(config), lookupIn(store, config.review.min_confidence), {
      force: flags.force ?? false,
      limit: undefined,
      staleAfterMs: staleAfterOf(config, undefined),
      now: now.getTime(),
    });
    rows = selection.jobs.reduce((n, j) => n + j.entries.length, 0);
    const history = store.averageTokens();
    modes = estimateModes({
      questions: selection.jobs.map((j) => j.inputs),
      rules: promptRulesOf(config),
      today: localDate(now),
      count: await tokenizer,
      completionPerRow: Math.round(history?.completionTokens ?? DEFAULT_COMPLETION_TOKENS),
      packSize: packing.rows,
      price: priceOf(primaryModel(config), priceTable(config.pricing)),
    });
  } finally {
    store.close();
  }
  if (flags.json) {
    const packed = { requested: packing.requested, rows: packing.rows, ...(packing.cappedBy ? { cappedBy: packing.cappedBy, note: packing.note } : {}) };
    io.stdout.write(`${JSON.stringify({ rows: entries.length, toAsk: rows, questions: modes[0]?.requests ?? 0, model: primaryModel(config), packing: packed, modes }, null, 2)}\n`);
    return 0;
  }
  const lines = [
    `${entries.length} rows in "${config.sheets.sheet}"; ${rows} would be asked about (${modes[0]?.requests ?? 0} distinct questions) with ${primaryModel(config)}.`,
    '',
    'mode                                        requests   prompt tokens  (cached)   answer tokens   cost',
    ...modes.map(
      (m) =>
        `${m.mode.padEnd(42)} ${String(m.requests).padStart(9)} ${String(m.promptTokens).padStart(15)} ${String(m.cachedTokens).padStart(10)} ${String(m.completionTokens).padStart(15)}   ${formatUsd(m.costUsd)}`,
    ),
    '',
    'Answer tokens are estimated from the cached answers (or 120 per row); prompt tokens are counted exactly.',
    ...(packing.note ? [`Packing is capped: ${packing.note}`] : []),
  ];
  io.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
