import type { Database, Statement } from 'better-sqlite3';

/** What a key's stored embedding was made under, and its size in bytes (4 per dimension). */
export interface StoredEmbedding {
  status: string;
  bytes: number;
  model: string;
  scope: string;
}

/** One partition of the embeddings: the vectors of one model, scope, status and size. */
export interface EmbeddingPartition {
  model: string;
  scope: string;
  status: string;
  bytes: number;
}

const VECTOR_PAGE = 1000;

const WHERE = 'WHERE model = ? AND scope = ? AND status = ? AND length(vector) = ?';

/**
 * The `embeddings` table (keyed like `verdicts`): the storage of src/semantic's cache.
 * The two per-row statements are prepared once, when made, as the semantic cache did.
 */
export class SqliteEmbeddings {
  private readonly previousStatement: Statement<[string], StoredEmbedding>;
  private readonly putStatement: Statement<[string, string, string, string, Buffer]>;

  constructor(private readonly db: Database) {
    this.previousStatement = db.prepare('SELECT status, length(vector) AS bytes, model, scope FROM embeddings WHERE key = ?');
    this.putStatement = db.prepare(
      `INSERT INTO embeddings (key, status, model, scope, vector) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET status = excluded.status, model = excluded.model, scope = excluded.scope, vector = excluded.vector`,
    );
  }

  /** The embedding stored under a key, without its vector. */
  previous(key: string): StoredEmbedding | undefined {
    return this.previousStatement.get(key);
  }

  /** Stores (or replaces) a key's vector, as float32 bytes. */
  put(key: string, status: string, model: string, scope: string, vector: Buffer): void {
    this.putStatement.run(key, status, model, scope, vector);
  }

  /** How many vectors a partition holds (to size its index before reading them). */
  count(partition: EmbeddingPartition): number {
    const { n } = this.db.prepare(`SELECT count(*) AS n FROM embeddings ${WHERE}`).get(...params(partition)) as { n: number };
    return n;
  }

  /**
   * A partition's vectors, a page at a time (by key): never the whole table at once, and no
   * statement left open between pages (the connection is shared with the run's other work).
   */
  *vectors(partition: EmbeddingPartition): Generator<{ key: string; vector: Buffer }> {
    const page = this.db.prepare(`SELECT key, vector FROM embeddings ${WHERE} AND key > ? ORDER BY key LIMIT ${VECTOR_PAGE}`);
    let after = '';
    for (;;) {
      const rows = page.all(...params(partition), after) as Array<{ key: string; vector: Buffer }>;
      yield* rows;
      const last = rows.at(-1);
      if (!last || rows.length < VECTOR_PAGE) return;
      after = last.key;
    }
  }
}

function params(p: EmbeddingPartition): [string, string, string, number] {
  return [p.model, p.scope, p.status, p.bytes];
}
