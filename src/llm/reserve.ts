import { AnswerSizes, LEARN_AFTER } from './answer-size.js';

/**
 * Which answers a size summary is of: one endpoint (its base URL), one model, one prompt (the
 * rules' digest, the answer's shape and the rows per request: a packed request of five rows
 * answers five times longer, and is its own prompt).
 */
export interface AnswerSizesOf {
  provider: string;
  model: string;
  prompt: string;
}

/** Where the sizes are kept between runs (the store's answerSizes(): the same shape, so llm/ needs no import of cache/). */
export interface AnswerSizeMemory {
  /** The sizes kept, oldest first; [] when none (or the kept text is damaged). */
  recall(of: AnswerSizesOf): Promise<number[]>;
  /** Replaces what is kept. */
  learn(of: AnswerSizesOf, sizes: readonly number[]): Promise<void>;
}

/** A summary is saved after this many new sizes (and at the run's end): not a write per answer. */
export const SAVE_EVERY = 50;

interface Entry {
  sizes: AnswerSizes;
  /** Sizes observed since the last save. */
  unsaved: number;
}

/**
 * The answer sizes of a run, per {@link AnswerSizesOf}: recalled from the store on first
 * use, saved every {@link SAVE_EVERY} answers, after an answer asked again at the full cap,
 * and by {@link flush}. Turned off (llm.learn_answer_size: false), every request reserves the cap.
 * A store that cannot be read or written costs a warning, never a row.
 */
export class AnswerReserve {
  private readonly entries = new Map<string, Promise<Entry>>();
  /** The entries recalled already, for {@link reserveNow}. */
  private readonly loaded = new Map<string, Entry>();
  /** Saves go one after another: a later summary is never overwritten by an earlier one. */
  private saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly options: {
      enabled: boolean;
      memory?: AnswerSizeMemory | undefined;
      onWarning?: ((text: string) => void) | undefined;
    },
  ) {}

  get enabled(): boolean {
    return this.options.enabled;
  }

  /** The tokens a request of these answers reserves and asks for, `cap` at most (see AnswerSizes.reserve). */
  async reserve(of: AnswerSizesOf, cap: number): Promise<number> {
    if (!this.options.enabled) return cap;
    return (await this.entry(of)).sizes.reserve(cap);
  }

  /** Recalls these answers' sizes from the store, if not done yet: {@link reserveNow} then knows them. */
  async load(of: AnswerSizesOf): Promise<void> {
    if (this.options.enabled) await this.entry(of);
  }

  /**
   * {@link reserve} at once, for a request leaving the pacing gate: it waited in the queue
   * while answers arrived, and reserves what they taught. The cap while the sizes are not
   * recalled yet (see {@link load}).
   */
  reserveNow(of: AnswerSizesOf, cap: number): number {
    if (!this.options.enabled) return cap;
    return this.loaded.get(keyOf(of))?.sizes.reserve(cap) ?? cap;
  }

  /** An answer's completion tokens (reasoning included); `urgent`: save now (the size had outgrown the reserve). */
  observe(of: AnswerSizesOf, tokens: number, urgent = false): void {
    if (!this.options.enabled) return;
    void this.entry(of).then((entry) => {
      if (entry.sizes.observe(tokens)) entry.unsaved++;
      if (entry.unsaved >= SAVE_EVERY || (urgent && entry.unsaved > 0)) this.save(of, entry);
    });
  }

  /** Saves what is not saved yet, and waits for every save: before the store closes. */
  async flush(): Promise<void> {
    for (const [key, pending] of this.entries) {
      const entry = await pending;
      if (entry.unsaved > 0) this.save(JSON.parse(key) as AnswerSizesOf, entry);
    }
    await this.saving;
  }

  private entry(of: AnswerSizesOf): Promise<Entry> {
    const key = keyOf(of);
    let entry = this.entries.get(key);
    if (!entry) {
      entry = this.recall(of).then((recalled) => {
        this.loaded.set(key, recalled);
        return recalled;
      });
      this.entries.set(key, entry);
    }
    return entry;
  }

  private async recall(of: AnswerSizesOf): Promise<Entry> {
    const memory = this.options.memory;
    if (!memory) return { sizes: new AnswerSizes(), unsaved: 0 };
    try {
      return { sizes: AnswerSizes.of(await memory.recall(of)), unsaved: 0 };
    } catch (error) {
      this.options.onWarning?.(`could not read the answer sizes of model ${of.model} from the cache (requests reserve llm.max_completion_tokens until ${LEARN_AFTER} answers are seen): ${errorText(error)}`);
      return { sizes: new AnswerSizes(), unsaved: 0 };
    }
  }

  private save(of: AnswerSizesOf, entry: Entry): void {
    const memory = this.options.memory;
    entry.unsaved = 0;
    if (!memory) return;
    const sizes = entry.sizes.samples();
    this.saving = this.saving.then(() =>
      memory.learn(of, sizes).catch((error: unknown) => {
        this.options.onWarning?.(`could not save the answer sizes of model ${of.model} in the cache (the next run learns them again): ${errorText(error)}`);
      }),
    );
  }
}

function keyOf(of: AnswerSizesOf): string {
  return JSON.stringify({ provider: of.provider, model: of.model, prompt: of.prompt });
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
