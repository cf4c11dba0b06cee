/**
 * The run's workers (llm.max_workers of them), shared by the chunks of a streamed read:
 * each worker pulls the next item when it finishes one, from the oldest source that still
 * has items, so that the next chunk's requests start as this chunk's last ones finish
 * (issue 25, bench B1: a worker waiting for the slowest answer of a chunk before the next
 * chunk was asked cost each chunk boundary most of a round). At most `workers` items are
 * in hand at a time across all sources, and items are made one at a time as workers ask
 * for them (100,000 questions do not queue 100,000 closures).
 */
export class WorkerPool {
  private readonly sources: Source[] = [];
  private running = 0;

  constructor(private readonly workers: number) {
    if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`workers must be a whole number ≥ 1, got ${workers}`);
  }

  /**
   * Hands `count` items (at most) to the workers, after the items added before. `taken`
   * resolves once the last item is in a worker's hands, `done` once every item is handled
   * (it rejects with the first error a `handle` threw, after the others are handled).
   */
  add<T>(items: Iterator<T>, count: number, handle: (item: T) => Promise<void>): { taken: Promise<void>; done: Promise<void> } {
    const source = new Source(items as Iterator<unknown>, count, handle as (item: unknown) => Promise<void>);
    if (count > 0) {
      this.sources.push(source);
      const idle = Math.min(this.workers - this.running, count);
      for (let i = 0; i < idle; i++) void this.work();
    }
    return { taken: source.taken, done: source.done };
  }

  private async work(): Promise<void> {
    this.running++;
    try {
      for (let source = this.sources[0]; source !== undefined; source = this.sources[0]) {
        const item = source.take();
        // The last item taken (or none left): the source is retired, the next one's items come next.
        if (source.exhausted && this.sources[0] === source) this.sources.shift();
        if (!item.done) await source.handle(item.value);
      }
    } finally {
      this.running--;
    }
  }
}

/** One chunk's items: taken one at a time, each handled once. */
class Source {
  readonly taken: Promise<void>;
  readonly done: Promise<void>;
  private resolveTaken!: () => void;
  private resolveDone!: () => void;
  private rejectDone!: (error: unknown) => void;
  exhausted = false;
  private inHand = 0;
  private error: { value: unknown } | undefined;

  constructor(
    private readonly items: Iterator<unknown>,
    /** Items left to take: `taken` resolves as the last one is taken, not when a worker next finds none. */
    private left: number,
    private readonly handler: (item: unknown) => Promise<void>,
  ) {
    this.taken = new Promise((resolve) => (this.resolveTaken = resolve));
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // A caller that awaits only `taken` (then stops) must not leave an unhandled rejection behind.
    this.done.catch(() => undefined);
    if (left <= 0) this.exhaust();
  }

  /** The next item, counted in hand until handled (call `handle` with it). */
  take(): IteratorResult<unknown> {
    if (this.exhausted) return { done: true, value: undefined };
    const item = this.items.next();
    if (!item.done) {
      this.inHand++;
      this.left--;
    }
    if (item.done || this.left <= 0) this.exhaust();
    return item;
  }

  async handle(item: unknown): Promise<void> {
    try {
      await this.handler(item);
    } catch (error) {
      this.error ??= { value: error };
    } finally {
      this.inHand--;
      this.end();
    }
  }

  private exhaust(): void {
    this.exhausted = true;
    this.resolveTaken();
    this.end();
  }

  private end(): void {
    if (!this.exhausted || this.inHand > 0) return;
    if (this.error) this.rejectDone(this.error.value);
    else this.resolveDone();
  }
}
