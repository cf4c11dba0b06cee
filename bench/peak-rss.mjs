// Preloaded into a measured CLI process (bench/built-cli.ts): writes its peak RSS, in
// bytes, to $PEAK_RSS_FILE as it exits.
import { writeFileSync } from 'node:fs';
import process from 'node:process';

process.on('exit', () => {
  if (process.env.PEAK_RSS_FILE) writeFileSync(process.env.PEAK_RSS_FILE, String(process.resourceUsage().maxRSS * 1024));
});
