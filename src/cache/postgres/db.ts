import pg from 'pg';
import { StatusValidatorError } from '../../errors.js';
import { describe, isConnectionFault, retrying, unavailable } from './faults.js';
import type { Target } from './target.js';
import { decodeRows, encodeValues } from './text.js';

/** bigint columns (counts, ms timestamps, beats) as numbers: every one stays far below 2^53. */
const INT8_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary'): unknown =>
    oid === INT8_OID ? (value: string) => Number(value) : (pg.types.getTypeParser(oid, format ?? 'text') as unknown)) as typeof pg.types.getTypeParser,
};

export interface DbOptions {
  commitPatienceMs: number;
  /** Per connection attempt. */
  connectTimeoutMs: number;
  now: () => Date;
}

/** What a transaction's function reads and writes through (strings escaped as ./text.ts says). */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

/**
 * What every session of the store runs first (the pool's and each lock's), whatever the
 * database's or role's defaults say:
 * - client_encoding UTF8: node-postgres decodes every answer as UTF-8 but never says so to the
 *   server, whose default is the database's encoding (or a role's setting);
 * - synchronous_commit on where it was off: "off" acknowledges a COMMIT before its WAL is on disk,
 *   so "the most recent transactions may be lost if the database should crash"
 *   (https://www.postgresql.org/docs/15/wal-async-commit.html), while the Store promises a put
 *   is durable once it resolves (invariant 2). It is a per-session setting any user may choose
 *   (https://www.postgresql.org/docs/15/runtime-config-wal.html#GUC-SYNCHRONOUS-COMMIT); a
 *   stronger setting (remote_write, remote_apply) is kept as it is.
 * Set with SET rather than the startup packet's `options`, which PgBouncer refuses by default.
 */
export const SESSION_SETUP = `SELECT set_config('client_encoding', 'UTF8', false),
  set_config('synchronous_commit', CASE current_setting('synchronous_commit') WHEN 'off' THEN 'on' ELSE current_setting('synchronous_commit') END, false)`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The connection pool and the rules every statement follows: connection-class faults are
 * retried within the commit patience, then the run stops naming host and port; any other
 * failure is reported with the SQLSTATE, never with the password.
 */
export class Db {
  readonly pool: pg.Pool;
  private closed = false;

  constructor(
    readonly url: string,
    readonly target: Target,
    readonly options: DbOptions,
  ) {
    this.pool = new pg.Pool({
      ...this.clientConfig(),
      max: 8,
      idleTimeoutMillis: 10_000,
      // Run on each new connection before any statement of ours; a failure fails the checkout (and is retried like any connection fault).
      verify: (client, done) => {
        client.query(SESSION_SETUP).then(
          () => done(),
          (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
        );
      },
    });
    // An idle client whose server goes away (a restart, pg_terminate_backend, a proxy closing
    // sockets) makes the pool emit 'error'; with no listener that crashes the process
    // (https://node-postgres.com/apis/pool#error). The pool drops that client by itself, and the
    // next statement connects again, so there is nothing more to do here. Never log the error:
    // pg-pool sets error.client, whose parameters hold the password.
    this.pool.on('error', () => {});
    // A checked-out client is no longer watched by the pool: its own listener keeps a dropped
    // connection from being an uncaught 'error'; the statement in flight still rejects.
    this.pool.on('connect', (client) => client.on('error', () => {}));
  }

  /** The config of every connection, pooled or dedicated (a lock's). */
  clientConfig(): pg.ClientConfig {
    return {
      connectionString: this.url,
      connectionTimeoutMillis: this.options.connectTimeoutMs,
      // A statement that never answers (a server gone silent, a black-holed network) fails
      // like a dropped connection, then is retried within the patience.
      query_timeout: Math.max(5_000, this.options.commitPatienceMs),
      // TCP keepalive from 10 s of silence (Linux's default waits two hours): a connection cut
      // without a word (a partition, a NAT dropping state) is noticed, and a lock's `lost` fires.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      application_name: 'status-validator',
      types,
    };
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** One statement, retried on connection-class faults. */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    return this.retry(async () => {
      const result = await this.pool.query<R>(text, encodeValues(values));
      decodeRows(result.rows);
      return result;
    }, 'while saving or reading');
  }

  async rows<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<R[]> {
    return (await this.query<R>(text, values)).rows;
  }

  /**
   * `fn` in one transaction, run again whole after a connection fault, a serialization
   * failure or a deadlock (so it must only read and write through its client).
   *
   * A COMMIT whose answer was lost (the connection dropped after the server received it) leaves
   * the outcome unknown: the server may have committed (it commits once the COMMIT is processed,
   * whether or not its answer arrives: https://www.postgresql.org/docs/15/protocol-flow.html).
   * Running `fn` again would then see its own writes and answer for them as if another's (a
   * putUnlessNewer finding "a newer verdict", a restore "no row added"). So a writing
   * transaction notes its transaction id first, and after such a fault asks the server what
   * became of it (txid_status, https://www.postgresql.org/docs/15/functions-info.html): committed,
   * the first attempt's result is the answer; otherwise `fn` runs again.
   */
  async tx<T>(fn: (client: Queryable) => Promise<T>, options: { isolation?: 'READ COMMITTED' | 'REPEATABLE READ'; readOnly?: boolean } = {}): Promise<T> {
    const isolation = options.isolation ?? 'READ COMMITTED';
    let unacknowledged: { xid: string; pid: number; result: T } | undefined;
    return this.retry(async () => {
      if (unacknowledged) {
        if ((await this.outcome(unacknowledged.xid, unacknowledged.pid)) === 'committed') return unacknowledged.result;
        unacknowledged = undefined;
      }
      const client = await this.pool.connect();
      let failure: unknown;
      try {
        let attempt: { xid: string; pid: number } | undefined;
        if (options.readOnly) {
          await client.query(`BEGIN ISOLATION LEVEL ${isolation} READ ONLY`);
        } else {
          // One round trip: the transaction and its id (txid_current assigns one now).
          const results = (await client.query(`BEGIN ISOLATION LEVEL ${isolation}; SELECT txid_current()::text AS xid, pg_backend_pid() AS pid`)) as unknown as pg.QueryResult<{
            xid: string;
            pid: number;
          }>[];
          attempt = results[1]?.rows[0];
        }
        const result = await fn(queryable(client));
        // From here until COMMIT's answer, a dropped connection leaves the outcome unknown.
        if (attempt) unacknowledged = { ...attempt, result };
        await client.query('COMMIT');
        unacknowledged = undefined;
        return result;
      } catch (error) {
        failure = error;
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        // A client whose connection failed is destroyed, not handed to the next statement.
        client.release(failure !== undefined && isConnectionFault(failure) ? (failure as Error) : undefined);
      }
    }, 'while saving or reading');
  }

  /**
   * What became of a transaction whose COMMIT went unanswered. Still in progress (its session
   * has not yet noticed the connection is gone), it is ended (pg_terminate_backend: the same
   * role may end its own sessions) so that it settles one way or the other.
   */
  private async outcome(xid: string, pid: number): Promise<'committed' | 'not committed'> {
    for (let i = 0; i < 100; i++) {
      let status: string | null | undefined;
      try {
        status = (await this.pool.query<{ status: string | null }>('SELECT txid_status($1::bigint) AS status', [xid])).rows[0]?.status;
      } catch (error) {
        // A server older than 10 has no txid_status: run the transaction again, as before.
        if ((error as { code?: unknown }).code === '42883') return 'not committed';
        throw error;
      }
      if (status === 'committed') return 'committed';
      if (status !== 'in progress') return 'not committed';
      if (i === 0) await this.pool.query('SELECT pg_terminate_backend($1)', [pid]).catch(() => {});
      await sleep(50);
    }
    // Still undecided after 5 s: a connection-class fault (08007 transaction_resolution_unknown), asked again within the patience.
    throw Object.assign(new Error('Connection ended before the transaction\'s outcome was known'), { code: '08007' });
  }

  /**
   * Set when a statement gave up on a server unreachable for the whole patience: the statements
   * after it try once, until one gets through. A run stopping for an unreachable database still
   * reads and records a few things on its way out (the tokens average, the run's end); each of
   * those waiting the whole patience again would hold the exit for minutes, for nothing.
   */
  private unreachable = false;
  /**
   * When the statement that gave up first found the server unreachable: a statement trying
   * once after it says how long the outage has lasted, not the instant it waited itself
   * (the run's failure may be one of those: a statement that gave up before it may have
   * been one whose failure the run does not report, as a claim's release).
   */
  private unreachableSince = 0;

  async retry<T>(op: () => Promise<T>, doing: string): Promise<T> {
    if (this.closed) throw new StatusValidatorError(`The PostgreSQL cache at ${this.target.location} is closed.`);
    const patient = !this.unreachable;
    try {
      const result = await retrying(op, patient ? this.options.commitPatienceMs : 0, (error, waited) => {
        // The outage began when the first statement to give up on it began waiting: statements
        // that waited beside it give up after it, and must not move its start later.
        const began = Date.now() - waited;
        if (patient) this.unreachableSince = this.unreachable ? Math.min(this.unreachableSince, began) : began;
        this.unreachable = true;
        return unavailable(this.target, error, Date.now() - this.unreachableSince, doing, !patient);
      });
      this.unreachable = false;
      return result;
    } catch (error) {
      throw this.final(error);
    }
  }

  /** A failure that is not the connection's, as a message the CLI shows (no driver object, no password). */
  final(error: unknown): Error {
    if (error instanceof StatusValidatorError) return error;
    return new StatusValidatorError(`The PostgreSQL cache at ${this.target.location} failed: ${describe(error, this.target)}.`, {
      hint: 'This is not a connection problem: check the server\'s log, and report it if it persists.',
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end().catch(() => {});
  }
}

function queryable(client: pg.PoolClient): Queryable {
  return {
    async query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
      const result = await client.query<R>(text, encodeValues(values));
      decodeRows(result.rows);
      return result;
    },
  };
}
