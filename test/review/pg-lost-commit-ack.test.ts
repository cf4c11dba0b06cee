/**
 * Review of the PostgreSQL store (issue 21 item 4: "commits are retried with backoff"): a
 * transaction that is run again after its COMMIT's acknowledgement was lost. PostgreSQL commits
 * a transaction once the COMMIT is processed, whether or not its answer reaches the client; a
 * client whose connection drops at that moment cannot know which (the server sends CommandComplete
 * only after the command's work is done: https://www.postgresql.org/docs/15/protocol-flow.html#PROTOCOL-FLOW-SIMPLE-QUERY;
 * the store itself says so in runs.start and batchJobs.record). Db.tx runs the whole function again on a
 * connection fault, so the second attempt sees the first attempt's own committed writes:
 *
 * - putUnlessNewer finds the verdict it has just saved, takes it for a newer one, and answers
 *   false: the batch job's applier counts the row as "kept newer" instead of answered.
 * - restore finds the rows it has just added, and answers that it added none: `cache migrate`
 *   reports 0 rows copied for a chunk it copied.
 *
 * The lost acknowledgement is made by a TCP proxy between the store and the server that forwards
 * the client's COMMIT, then cuts both sides without forwarding the server's answer (what a
 * failover, a proxy restart or a network cut does at that instant).
 */
import { createServer, Socket, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/cache/contract.js';
import { openPostgresStore } from '../../src/cache/postgres/index.js';
import type { CachedVerdict } from '../../src/cache/store.js';
import { postgresAfterEach, testCluster } from '../support/postgres-store.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve));
});
// Registered after the servers' hook, so it runs before it (vitest runs afterEach hooks as a stack): stores close, then the proxies.
const { stores } = postgresAfterEach();

/** A proxy to the cluster; `arm()` makes the next COMMIT's answer be lost (once). */
async function proxy(port: number): Promise<{ port: number; arm: () => void; cuts: () => number }> {
  let armed = false;
  let cuts = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = new Socket();
    sockets.add(client);
    sockets.add(upstream);
    let swallowing = false;
    upstream.connect(port, '127.0.0.1');
    client.on('data', (data: Buffer) => {
      upstream.write(data);
      if (armed && data.includes(Buffer.from('COMMIT\0'))) {
        armed = false;
        swallowing = true;
        cuts++;
        // The server commits; its answer never reaches the client.
        setTimeout(() => {
          client.destroy();
          upstream.destroy();
        }, 300);
      }
    });
    upstream.on('data', (data: Buffer) => {
      if (!swallowing) client.write(data);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  servers.push(server);
  server.on('close', () => {
    for (const s of sockets) s.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, arm: () => void (armed = true), cuts: () => cuts };
}

async function storeBehindProxy(): Promise<{ store: Store; arm: () => void; cuts: () => number }> {
  const cluster = await testCluster();
  const url = await cluster.createDatabase('ack');
  const p = await proxy(cluster.port);
  const store = await openPostgresStore(url.replace(`:${cluster.port}/`, `:${p.port}/`), { commitPatienceMs: 10_000 });
  stores.push(store);
  return { store, ...p };
}

const verdict: CachedVerdict = {
  key: 'k1',
  verdict: 'VALID',
  issues: [],
  suggestion: '',
  model: 'm',
  provider: 'openai (batch)',
  checkedAt: '2026-12-04T23:30:00.000Z',
  confidence: 1,
  promptTokens: 1,
  completionTokens: 1,
  cachedTokens: 0,
};

describe('a transaction retried after its COMMIT\'s acknowledgement was lost', () => {
  it('putUnlessNewer answers true: the verdict it saved is its own, not a newer one', async () => {
    const { store, arm, cuts } = await storeBehindProxy();
    arm();
    // The batch job was submitted at 23:00; its answer is applied at 23:30 into an empty store.
    const saved = await store.putUnlessNewer(verdict, '2026-12-04T23:00:00.000Z');
    expect(cuts()).toBe(1);
    expect((await store.get('k1'))?.checkedAt).toBe(verdict.checkedAt);
    expect(saved).toBe(true);
  });

  it('restore answers the rows it added', async () => {
    const { store, arm, cuts } = await storeBehindProxy();
    const rows = ['a', 'b', 'c'].map((key) => ({ key, verdict: 'VALID', issues: '[]', suggestion: '', model: 'm', provider: 'p', checked_at: '2026-12-04T23:00:00.000Z', confidence: 1, prompt_tokens: 1, completion_tokens: 1, cached_tokens: 0 }));
    arm();
    const added = await store.restore({ table: 'verdicts', rows });
    expect(cuts()).toBe(1);
    expect(await store.count()).toBe(3);
    expect(added).toBe(3);
  });
});
