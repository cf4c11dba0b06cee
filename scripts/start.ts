/**
 * `npm start`: the main job. With a config.yaml here (or STATUS_VALIDATOR_CONFIG), one
 * real validation run; without one, the demo against the bundled emulators.
 */
import { existsSync } from 'node:fs';
import { main } from '../src/cli/main.js';

const config = process.env.STATUS_VALIDATOR_CONFIG ?? 'config.yaml';
if (existsSync(config)) {
  process.exitCode = await main(['run', '--config', config, ...process.argv.slice(2)], { stdout: process.stdout, stderr: process.stderr, env: process.env });
} else {
  console.log(`No ${config} here (copy config.example.yaml to start): running the demo against the bundled emulators.\n`);
  await import('./demo.js');
}
