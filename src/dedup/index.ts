import { token_set_ratio, token_sort_ratio } from 'fuzzball';
import { pushTo } from '../collections.js';
import type { RowInputs } from '../sheets/index.js';

export interface Near<T> {
  /** The question asked. */
  leader: T;
  /** Questions close enough to share the leader's answer, with their similarity (0–100). */
  followers: Array<{ item: T; similarity: number }>;
}

export interface FuzzyOptions {
  /** token_set_ratio (0–100) at or above which two comments count as the same. */
  threshold: number;
  /** Pair comparisons allowed before giving up on the rest (they are asked as usual). */
  maxPairs?: number;
}

const tokens = (text: string) => new Set(text.toLocaleLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []);

/**
 * Groups near-duplicate questions: same status, same due date, same extra inputs, and comments whose
 * token-set similarity (fuzzball's token_set_ratio, the RapidFuzz measure) reaches
 * the threshold, and whose sorted-token similarity is within 10 of it. Each group is
 * asked once. A cheap word-overlap test (at least half
 * the words of the shorter comment) filters the pairs before the fuzzy ratio, which
 * costs ~80 µs a pair.
 */
export function groupNearDuplicates<T>(items: readonly T[], inputsOf: (item: T) => RowInputs, options: FuzzyOptions): { groups: Array<Near<T>>; pairsCompared: number; truncated: boolean } {
  const maxPairs = options.maxPairs ?? 2_000_000;
  const blocks = new Map<string, T[]>();
  for (const item of items) {
    const inputs = inputsOf(item);
    // Extra inputs must match exactly: rows differing only in an owner or a budget are not duplicates.
    const block = `${inputs.status.trim().toLowerCase()}\u0000${inputs.completion_date.trim()}${inputs.extra === undefined ? '' : `\u0000${JSON.stringify(inputs.extra)}`}`;
    pushTo(blocks, block, item);
  }
  const groups: Array<Near<T>> = [];
  let pairs = 0;
  let truncated = false;
  for (const members of blocks.values()) {
    const words = members.map((m) => tokens(inputsOf(m).comment));
    const taken = new Array<boolean>(members.length).fill(false);
    for (let i = 0; i < members.length; i++) {
      if (taken[i]) continue;
      const leader = members[i] as T;
      const group: Near<T> = { leader, followers: [] };
      const a = words[i] ?? new Set<string>();
      for (let j = i + 1; j < members.length && !truncated; j++) {
        if (taken[j]) continue;
        if (++pairs > maxPairs) {
          truncated = true;
          break;
        }
        const b = words[j] ?? new Set<string>();
        let shared = 0;
        for (const w of a) if (b.has(w)) shared++;
        if (shared * 2 < Math.min(a.size, b.size)) continue;
        const [x, y] = [inputsOf(leader).comment, inputsOf(members[j] as T).comment];
        const similarity = token_set_ratio(x, y);
        // token_set_ratio scores a comment that contains another at 100 ("shipped to
        // production" vs "shipped to production, then rolled back"): the sorted-token
        // ratio must be close too, so that added words count.
        if (similarity >= options.threshold && token_sort_ratio(x, y) >= options.threshold - 10) {
          taken[j] = true;
          group.followers.push({ item: members[j] as T, similarity });
        }
      }
      groups.push(group);
    }
  }
  return { groups, pairsCompared: Math.min(pairs, maxPairs), truncated };
}
