import { sizesOf, sizesText } from '../answer-sizes.js';
import type { AnswerSizeStore, AnswerSizesOf } from '../contract.js';
import type { Db } from './db.js';

/** The sizes of answers per endpoint, model and prompt (issue 25), as SQLite keeps them. */
export class PostgresAnswerSizes implements AnswerSizeStore {
  constructor(
    private readonly db: Db,
    private readonly now: () => number,
  ) {}

  async recall(of: AnswerSizesOf): Promise<number[]> {
    const [row] = await this.db.rows<{ sizes: string }>('SELECT sizes FROM answer_sizes WHERE provider = $1 AND model = $2 AND prompt = $3', [of.provider, of.model, of.prompt]);
    return sizesOf(row?.sizes);
  }

  async learn(of: AnswerSizesOf, sizes: readonly number[]): Promise<void> {
    await this.db.query(
      `INSERT INTO answer_sizes (provider, model, prompt, sizes, learned_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (provider, model, prompt) DO UPDATE SET sizes = excluded.sizes, learned_at = excluded.learned_at`,
      [of.provider, of.model, of.prompt, sizesText(sizes), this.now()],
    );
  }
}
