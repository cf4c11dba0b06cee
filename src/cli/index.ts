import { setFlagsFromString } from 'node:v8';
import { main } from './main.js';

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

/**
 * The executable's entry: wires signals and the process, and is the only place that
 * calls process.exit. First SIGINT/SIGTERM: stop starting new calls, let those in
 * flight finish (10 s at most), flush pending writes, exit 130. A second one cancels
 * the calls in flight at once.
 */
const stop = new AbortController();
const abort = new AbortController();
let signals = 0;
const onSignal = (signal: NodeJS.Signals) => {
  signals++;
  if (signals === 1) {
    process.stderr.write(`\n${signal}: finishing the calls in flight and saving what is done (again to cancel them)…\n`);
    stop.abort(new Error(signal));
    setTimeout(() => abort.abort(new Error('deadline')), 10_000).unref();
  } else {
    abort.abort(new Error(signal));
  }
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const code = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, stop: stop.signal, abort: abort.signal });
process.exitCode = code;
// Leave as soon as stdout and stderr have drained (a piped --json summary must not be cut
// short), even if a keep-alive socket would hold the loop: a fixed wait here was part of
// every run's wall time (issue 25, B1). The timer is only a backstop.
let draining = 2;
const leave = () => {
  if (--draining === 0) process.exit(code);
};
process.stdout.write('', leave);
process.stderr.write('', leave);
setTimeout(() => process.exit(code), 1000).unref();
