import type { EmbeddingStore } from '../contract.js';
import type { EmbeddingPartition, StoredEmbedding } from '../embeddings.js';
import type { Db } from './db.js';

const WHERE = 'model = $1 AND scope = $2 AND status = $3 AND octet_length(vector) = $4';
/** Vectors per read: a few megabytes of 1,536-dimension float32 vectors at a time. */
const CHUNK = 500;

/** The semantic cache's vectors (bytea, float32 little-endian), as src/cache/embeddings.ts keeps them. */
export class PostgresEmbeddings implements EmbeddingStore {
  constructor(private readonly db: Db) {}

  async previous(key: string): Promise<StoredEmbedding | undefined> {
    const [row] = await this.db.rows<StoredEmbedding>('SELECT status, octet_length(vector) AS bytes, model, scope FROM embeddings WHERE key = $1', [key]);
    return row;
  }

  async put(key: string, status: string, model: string, scope: string, vector: Buffer): Promise<void> {
    await this.db.query(
      `INSERT INTO embeddings (key, status, model, scope, vector) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (key) DO UPDATE SET status = excluded.status, model = excluded.model, scope = excluded.scope, vector = excluded.vector`,
      [key, status, model, scope, vector],
    );
  }

  async count(p: EmbeddingPartition): Promise<number> {
    const [row] = await this.db.rows<{ n: number }>(`SELECT count(*) AS n FROM embeddings WHERE ${WHERE}`, [p.model, p.scope, p.status, p.bytes]);
    return row?.n ?? 0;
  }

  /** Read by key, a chunk at a time after the last key read (never the whole partition in memory). */
  async *vectors(p: EmbeddingPartition): AsyncIterable<{ key: string; vector: Buffer }> {
    let after: string | null = null;
    for (;;) {
      const rows: Array<{ key: string; vector: Buffer }> = await this.db.rows<{ key: string; vector: Buffer }>(
        `SELECT key, vector FROM embeddings WHERE ${WHERE} AND ($5::text IS NULL OR key > $5) ORDER BY key LIMIT ${CHUNK}`,
        [p.model, p.scope, p.status, p.bytes, after],
      );
      yield* rows;
      if (rows.length < CHUNK) return;
      after = rows[rows.length - 1]?.key ?? null;
    }
  }
}
