import { cacheKey } from '../../cache/index.js';
import type { Config } from '../../config/index.js';
import { OUTPUT_SCHEMA_VERSION, PROMPT_VERSION, shapeKey } from '../../llm/index.js';
import type { RowInputs } from '../../sheets/index.js';
import { promptRulesOf } from '../plan.js';

export type CascadeConfig = NonNullable<Config['llm']['cascade']>;

/**
 * The name a cascade's verdicts are cached under (the cache key's model part): a rerun with
 * the same two models finds them; a plain run of either model does not take them for its own.
 */
export function cascadeModelName(cascade: Pick<CascadeConfig, 'small' | 'large'>): string {
  return `cascade:${cascade.small}>${cascade.large}`;
}

/** A row's cache key as if asked of one model alone (the cascade keeps each model's own answer there too). */
export function modelKeyer(config: Config, model: string): (inputs: RowInputs) => string {
  const rules = promptRulesOf(config);
  const shape = shapeKey(rules);
  return (inputs) => cacheKey({ inputs, rulesText: rules.rulesText, allowedStatuses: rules.allowedStatuses, promptVersion: PROMPT_VERSION, model, schemaVersion: OUTPUT_SCHEMA_VERSION, shape });
}

/**
 * What a calibration holds for: the rules, the allowed statuses, the prompt and output
 * versions, the row's shape, the two models, the target and its confidence. Any of them
 * changed, the threshold is calibrated again.
 */
export function calibrationScope(config: Config, cascade: CascadeConfig): string {
  const rules = promptRulesOf(config);
  const parts = { small: cascade.small, large: cascade.large, target: cascade.target_agreement, confidence: cascade.confidence };
  return `cascade-v1:${cacheKey({ inputs: { status: '', comment: JSON.stringify(parts), completion_date: '' }, rulesText: rules.rulesText, allowedStatuses: rules.allowedStatuses, promptVersion: PROMPT_VERSION, model: cascadeModelName(cascade), schemaVersion: OUTPUT_SCHEMA_VERSION, shape: shapeKey(rules) })}`;
}

/** A small seeded generator (mulberry32, https://gist.github.com/tommyettinger/46a874533244883189143505d203312c): the same scope draws the same rows. */
export function seededRandom(seed: string): () => number {
  let a = 0;
  for (let i = 0; i < seed.length; i++) a = (Math.imul(a, 31) + seed.charCodeAt(i)) | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` items drawn at random without replacement (a partial Fisher-Yates shuffle), in draw order. */
export function drawSample<T>(items: readonly T[], count: number, random: () => number): T[] {
  const pool = [...items];
  const n = Math.max(0, Math.min(count, pool.length));
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(random() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j] as T, pool[i] as T];
  }
  return pool.slice(0, n);
}
