import { setFlagsFromString } from 'node:v8';

/** V8 flags every command runs with (set by src/cli/index.ts as it starts). */
export function setHeapFlags(): void {
  // Memory: by default V8 lets the old generation grow to up to four times what survived
  // the last full collection before it collects again. A 100,000-row run holds ~65 MB of
  // rows and questions, and peaked at 440 MiB RSS that way; growing by half instead peaks
  // near 255 MiB in the same wall time (npm run bench B7). V8 reads this flag at every
  // collection, so setting it here, before the run allocates, takes effect.
  setFlagsFromString('--heap-growing-percent=50');
  // The young generation: V8 grows its semi-spaces (up to 16 MiB each, three of them) while
  // a run allocates fast, and a streamed run allocates fast for all of its length: kept at
  // their first size instead (V8 reads this factor whenever it would grow them), a
  // 100,000-row run peaks ~30 MiB lower (npm run bench B7; issue 25 asks 200 MiB at most).
  setFlagsFromString('--semi-space-growth-factor=1');
}

/**
 * Back to V8's defaults (those of Node 20's V8 11.3, the only V8 that starts the CLI with our
 * code cache: Node 22.1 has its own), for src/cli/code-cache.ts to make its cache at the end
 * of a command: V8 accepts cached data only under the flags it was made with, and the next
 * start compiles the script before src/cli/index.ts sets these. Setting them before the
 * compile instead would run the start's compile under the small young generation, which
 * cost it more collections.
 */
export function resetHeapFlags(): void {
  setFlagsFromString('--heap-growing-percent=0');
  setFlagsFromString('--semi-space-growth-factor=2');
}
