/**
 * Spreads requests over `key-0 … key-n` when one prompt_cache_key would carry more
 * than a cache machine serves (OpenAI: about 15 requests a minute per key; past it,
 * requests overflow to machines without the prefix and miss the cache). The number of
 * shards follows the request rate of the last minute, so a slow run keeps one key.
 */
export class CacheKeySharder {
  private readonly recent: number[] = [];
  private turn = 0;

  constructor(
    readonly base: string,
    /** Requests a minute one key serves well; 0 never shards. */
    private readonly perKeyRpm: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isFinite(perKeyRpm) || perKeyRpm < 0) throw new RangeError(`perKeyRpm must be ≥ 0, got ${perKeyRpm}`);
  }

  /** The key for the next request. */
  next(): string {
    if (this.perKeyRpm === 0) return this.base;
    const t = this.now();
    while (this.recent.length > 0 && (this.recent[0] ?? 0) <= t - 60_000) this.recent.shift();
    this.recent.push(t);
    const shards = Math.ceil(this.recent.length / this.perKeyRpm);
    if (shards <= 1) return this.base;
    return `${this.base}-${this.turn++ % shards}`;
  }
}
