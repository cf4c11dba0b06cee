import pg from 'pg';
import { StatusValidatorError } from '../../errors.js';
import { describe, isConnectionFault, retrying, unavailable } from './faults.js';
import type { Target } from './target.js';

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

export type Queryable = Pick<pg.ClientBase, 'query'>;

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
    this.pool = new pg.Pool({ ...this.clientConfig(), max: 8, idleTimeoutMillis: 10_000 });
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
    return this.retry(() => this.pool.query<R>(text, values), 'while saving or reading');
  }

  async rows<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<R[]> {
    return (await this.query<R>(text, values)).rows;
  }

  /**
   * `fn` in one transaction, run again whole after a connection fault, a serialization
   * failure or a deadlock (so it must only read and write through its client).
   */
  async tx<T>(fn: (client: pg.PoolClient) => Promise<T>, isolation: 'READ COMMITTED' | 'REPEATABLE READ' = 'READ COMMITTED'): Promise<T> {
    return this.retry(async () => {
      const client = await this.pool.connect();
      let failure: unknown;
      try {
        await client.query(`BEGIN ISOLATION LEVEL ${isolation}`);
        const result = await fn(client);
        await client.query('COMMIT');
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
   * Set when a statement gave up on a server unreachable for the whole patience: the statements
   * after it try once, until one gets through. A run stopping for an unreachable database still
   * reads and records a few things on its way out (the tokens average, the run's end); each of
   * those waiting the whole patience again would hold the exit for minutes, for nothing.
   */
  private unreachable = false;

  async retry<T>(op: () => Promise<T>, doing: string): Promise<T> {
    if (this.closed) throw new StatusValidatorError(`The PostgreSQL cache at ${this.target.location} is closed.`);
    try {
      const result = await retrying(op, this.unreachable ? 0 : this.options.commitPatienceMs, (error, waited) => {
        this.unreachable = true;
        return unavailable(this.target, error, waited, doing);
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
