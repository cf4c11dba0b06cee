import type { Database } from 'better-sqlite3';
import { sizesOf, sizesText } from '../answer-sizes.js';
import type { AnswerSizeStore } from '../contract.js';
import { unsynced } from './group-commit.js';
import { settled } from './settled.js';

/** The sizes of answers per endpoint, model and prompt (issue 25): one JSON list per row, replaced whole. */
export function sqliteAnswerSizes(db: Database, now: () => number = Date.now): AnswerSizeStore {
  const select = db.prepare<[string, string, string], { sizes: string }>('SELECT sizes FROM answer_sizes WHERE provider = ? AND model = ? AND prompt = ?');
  const upsert = db.prepare<[string, string, string, string, number]>(
    `INSERT INTO answer_sizes (provider, model, prompt, sizes, learned_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (provider, model, prompt) DO UPDATE SET sizes = excluded.sizes, learned_at = excluded.learned_at`,
  );
  return {
    recall: (of) => settled(() => sizesOf(select.get(of.provider, of.model, of.prompt)?.sizes)),
    learn: (of, sizes) =>
      // Committed without a sync of the WAL (the next verdict's sync makes it durable): a size lost
      // to a power cut is learned again, while a sync on the loop held every answer behind it (~1.5 ms a save, B1).
      settled(() => {
        unsynced(db, () => upsert.run(of.provider, of.model, of.prompt, sizesText(sizes), now()));
      }),
  };
}
