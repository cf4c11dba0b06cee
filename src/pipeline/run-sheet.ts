import { SheetWriter, fingerprintOf, keepColumnLook, openStreamed, type CellValues, type ChunkRead, type LookPiece, type SheetsClient } from '../sheets/index.js';
import type { RunEventSink } from './events.js';
import { isTicked } from './review.js';
import type { RunPlan } from './run-plan.js';
import type { Enqueue } from './settle.js';
import { resultsTarget } from './sheet-io.js';

/** What of a run's options its sheet depends on. */
export interface SheetOptions {
  dryRun?: boolean | undefined;
  /** The rows already read (watch's poll): one chunk. */
  preread?: CellValues | undefined;
  /** The run stopping: the columns' look is then left as it is. */
  stop?: AbortSignal | undefined;
}

/** A run's tab, opened: its rows chunk after chunk, its writer and the queue the verdicts go to it by. */
export interface RunSheet {
  writer: SheetWriter;
  enqueue: Enqueue;
  chunks: AsyncIterable<ChunkRead> | Iterable<ChunkRead>;
  /** Starts reading the rows after the first read (StreamedSheet.readAhead). */
  readAhead: () => void;
}

/**
 * Opens the tab for a streamed read and makes the writer; with a results tab, its lines
 * are laid over the rows (which needs them all: that tab's rows are read whole). Returns
 * the writer, the run's write queue, and the chunks of rows still to select.
 */
export async function openRunSheet(plan: RunPlan, options: SheetOptions, events: RunEventSink, sheets: SheetsClient): Promise<RunSheet> {
  const dryRun = options.dryRun ?? false;
  // Nothing is written here: the headers a write needs are made before the first write (SheetWriter).
  const opened = await openStreamed(sheets, plan.layout, { preread: options.preread });
  let chunks: AsyncIterable<ChunkRead> | Iterable<ChunkRead> = opened.chunks;
  let target: Awaited<ReturnType<typeof resultsTarget>> = undefined;
  if (plan.resultsTab) {
    // output.sheet: a line of the results tab is matched to its row among all the rows (ids
    // used twice are told apart by row), so the rows are gathered before they are shown.
    const { all, unverified } = await gather(opened.chunks);
    target = await resultsTarget(plan, sheets, { ...all, layout: opened.layout }, events);
    chunks = [all, ...unverified];
  }
  const writer = new SheetWriter(sheets, opened.layout, {
    batchSize: plan.writeBatchSize,
    ...(target ? { target } : {}),
    // output.format: the columns' look is checked (and made) after a run's writes; not on an interrupted run nor a dry one.
    // Within CHECKED_FOR_MS of the client's last check, a run checks it again only when its read shows a header where the client did not last find it
    // (a person swapped the recheck and reviewer headers), or when the client never checked (a CLI run: one read).
    afterWrites: async (wrote) => {
      if (options.stop?.aborted || dryRun) return;
      const layout = opened.layout;
      // A tab the bot has not finished setting up (headers still to add) is left as it was by a run that wrote nothing.
      if (!wrote && layout.missingHeaders.length > 0) return;
      const columnsRead = (piece: LookPiece): number | undefined =>
        piece.tab !== layout.sheet ? undefined : piece.kind === 'verdict' ? (layout.outputsInPlace ? layout.outputs.verdict : undefined) : piece.kind === 'recheck' ? layout.review.recheck : layout.review.override;
      for (const text of await keepColumnLook(sheets, plan.look, { columnsRead })) events.emit({ type: 'warning', text });
    },
    onFlush: (stats) => {
      events.emit({ type: 'flushed', rowsWritten: stats.rowsWritten });
    },
  });
  const enqueue: Enqueue = (entry, cells, answered = true) => {
    const clearRecheck = answered && isTicked(entry.review.recheck);
    // The identity the write is checked against: hashed only for rows being written.
    if (dryRun) return;
    writer.enqueue({ row: entry.row, id: entry.id, fingerprint: fingerprintOf(entry.id, entry.inputs, entry.review.override), cells, clearRecheck });
    events.emit({ type: 'queued', entry, verdict: cells.verdict });
  };
  return { writer, enqueue, chunks, readAhead: opened.readAhead };
}

/** All the chunks as one read (a results tab's run); the chunks read under moved columns stay apart, never asked. */
async function gather(chunks: AsyncIterable<ChunkRead> | Iterable<ChunkRead>): Promise<{ all: ChunkRead; unverified: ChunkRead[] }> {
  const all: ChunkRead = { entries: [], incomplete: [], firstRow: 1, lastRow: 0 };
  const unverified: ChunkRead[] = [];
  for await (const chunk of chunks) {
    if (chunk.unverified !== undefined || unverified.length > 0) {
      unverified.push(chunk);
      continue;
    }
    for (const entry of chunk.entries) all.entries.push(entry);
    for (const row of chunk.incomplete) all.incomplete.push(row);
    all.lastRow = chunk.lastRow;
  }
  return { all, unverified };
}
