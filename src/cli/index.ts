import { setHeapFlags } from './heap-flags.js';
import { main } from './main.js';

setHeapFlags();

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

// Not a top-level await: the same entry is also bundled as CommonJS for Node 20's code
// cache (scripts/build.ts, bin/status-validator.js), which has none.
void main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, stop: stop.signal, abort: abort.signal }).then(leave);

/**
 * Leave as soon as stdout and stderr have drained (a piped --json summary must not be cut
 * short), even if a keep-alive socket would hold the loop: a fixed wait here was part of
 * every run's wall time (issue 25, B1). The timer is only a backstop.
 */
function leave(code: number): void {
  process.exitCode = code;
  let draining = 2;
  const drained = () => {
    if (--draining === 0) process.exit(code);
  };
  process.stdout.write('', drained);
  process.stderr.write('', drained);
  setTimeout(() => process.exit(code), 1000).unref();
}
