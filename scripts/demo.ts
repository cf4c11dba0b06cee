/**
 * `npm run demo`: a complete run against the bundled emulators, no accounts needed (see
 * demo-run.ts for what it shows).
 */
import { runDemo } from './demo-run.js';

process.exitCode = await runDemo({ stdout: process.stdout, stderr: process.stderr }, { rows: 40 });
