/**
 * `npm run bench [name...]`: benchmarks against the emulators. Prints each figure with
 * the ideal and the ratio, and writes bench/results/<bench>.json. Never part of npm test.
 */
import { formatFigure, missesTarget, saveResults, type Figure } from './lib.js';
import { cascadeCost } from './cascade.js';
import { flexCost } from './flex.js';
import { costModes } from './cost.js';
import { latencyBound, latencyBoundProcess } from './latency.js';
import { flatMemory, largeSheet, largestSheet } from './load.js';
import { portfolioFairness } from './portfolio.js';
import { postgresBesideSqlite } from './postgres.js';
import { tokenBoundAnswers } from './answers.js';
import { requestBound, requestBoundWarm, tokenBound } from './rate.js';
import { rewriteFromCache } from './rewrite.js';
import { requestTooLarge } from './too-large.js';
import { warmRerun } from './warm.js';
import { writeEconomy } from './writes.js';

const benches: Record<string, () => Promise<Figure[]>> = {
  R1: () => latencyBound('R1 1,000 rows', 1000, 20, { mean: 100, jitter: 0 }),
  B1: async () => [
    ...(await latencyBound('B1 latency-bound', 2000, 50, { mean: 100, jitter: 20 }, 1.1)),
    // Issue 25 item 4: as a user runs it, startup and exit included.
    ...(await latencyBoundProcess('B1 latency-bound', 2000, 50, { mean: 100, jitter: 20 }, 1.15)),
    ...(await latencyBound('B1 sequential baseline (200 rows, 1 worker)', 200, 1, { mean: 100, jitter: 20 })).map((f) => ({
      ...f,
      name: 'B1 before: sequential, scaled to 2,000 rows',
      value: f.value * 10,
      ideal: f.ideal === undefined ? undefined : f.ideal * 10,
    })) as Figure[],
  ],
  B2: requestBound,
  'B2-warm': requestBoundWarm,
  B3: tokenBound,
  'B3-answers': tokenBoundAnswers,
  B4: warmRerun,
  B5: writeEconomy,
  B6: costModes,
  B7: largeSheet,
  B8: rewriteFromCache,
  B9: portfolioFairness,
  B10: requestTooLarge,
  B11: cascadeCost,
  B12: flexCost,
  B13: flatMemory,
  B14: largestSheet,
  B15: postgresBesideSqlite,
};

const chosen = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(benches);
const started = performance.now();
let missed = false;
for (const name of chosen) {
  const bench = benches[name];
  if (!bench) {
    console.error(`unknown bench "${name}"; known: ${Object.keys(benches).join(', ')}`);
    process.exitCode = 2;
    continue;
  }
  const figures = await bench();
  for (const figure of figures) {
    console.log(formatFigure(figure));
    if (missesTarget(figure)) missed = true;
  }
  saveResults(name, figures);
}
console.log(`benches took ${((performance.now() - started) / 1000).toFixed(0)} s`);
if (missed) process.exitCode = 1;
