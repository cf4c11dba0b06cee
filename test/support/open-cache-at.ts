/**
 * `node --import tsx test/support/open-cache-at.ts <epoch ms> <cache file>`: loads the
 * cache module, waits until the given instant, then opens (creating) the cache file as
 * every command does, and exits 0, or 1 with the error the user would see.
 */
import { openStore } from '../../src/cache/index.js';

const at = Number(process.argv[2]);
const file = process.argv[3] ?? '';
while (Date.now() < at) {
  // Spinning, not sleeping: timers are only as precise as the event loop.
}
try {
  await (await openStore({ path: file })).close();
} catch (error) {
  const e = error as Error & { hint?: string };
  process.stderr.write(`${e.message}\nFix: ${e.hint ?? ''}\n`);
  process.exitCode = 1;
}
