import type { Statement } from 'better-sqlite3';
import type { CacheStore } from './store.js';

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

const WHERE = 'WHERE model = ? AND scope = ? AND status = ? AND length(vector) = ?';

/**
 * The `embeddings` table (keyed like `verdicts`): the storage of src/semantic's cache.
 * The two per-row statements are prepared once, when made, as the semantic cache did.
 */
export class EmbeddingStore {
  private readonly previousStatement: Statement<[string], StoredEmbedding>;
  private readonly putStatement: Statement<[string, string, string, string, Buffer]>;

  constructor(private readonly store: CacheStore) {
    this.previousStatement = store.db.prepare('SELECT status, length(vector) AS bytes, model, scope FROM embeddings WHERE key = ?');
    this.putStatement = store.db.prepare(
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
    const { n } = this.store.db.prepare(`SELECT count(*) AS n FROM embeddings ${WHERE}`).get(...params(partition)) as { n: number };
    return n;
  }

  /** A partition's vectors, read one row at a time. */
  vectors(partition: EmbeddingPartition): IterableIterator<{ key: string; vector: Buffer }> {
    return this.store.db.prepare(`SELECT key, vector FROM embeddings ${WHERE}`).iterate(...params(partition)) as IterableIterator<{ key: string; vector: Buffer }>;
  }
}

function params(p: EmbeddingPartition): [string, string, string, number] {
  return [p.model, p.scope, p.status, p.bytes];
}
