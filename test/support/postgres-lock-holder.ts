/**
 * A lock holder in a process of its own (test/unit/postgres-locks.test.ts): opens the store at
 * SV_PG_URL, records run RUN_ID as running, takes lock NAME, says so on stdout as one JSON line,
 * then heartbeats every second until killed.
 *   node --import tsx test/support/postgres-lock-holder.ts NAME RUN_ID
 */
import { openPostgresStore } from '../../src/cache/postgres/index.js';

const [name = 'lock', runId = 'child-run'] = process.argv.slice(2);
const store = await openPostgresStore(process.env.SV_PG_URL ?? '');
await store.runs.start({ id: runId, startedAt: new Date().toISOString(), trigger: 'cli', spreadsheetId: 's', sheet: 'T' });
const lock = await store.locks.acquire(name, runId);
process.stdout.write(`${JSON.stringify({ held: true, pid: process.pid })}\n`);
setInterval(() => void lock.heartbeat(), 1_000);
