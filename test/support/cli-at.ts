/**
 * `node --import tsx test/support/cli-at.ts <epoch ms> <status-validator args...>`: loads
 * the CLI, waits until the given instant, then runs it. Several such processes started
 * together run the CLI within a millisecond or so of each other, which process start-up
 * (hundreds of milliseconds of module loading) would otherwise spread apart.
 */
import { main } from '../../src/cli/main.js';

const at = Number(process.argv[2]);
const args = process.argv.slice(3);
while (Date.now() < at) {
  // Spinning, not sleeping: timers are only as precise as the event loop.
}
const code = await main(args, { stdout: process.stdout, stderr: process.stderr, env: process.env });
process.exitCode = code;
