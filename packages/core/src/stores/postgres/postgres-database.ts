import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Client, ClientBase, ClientConfig, Pool, PoolClient, PoolConfig, QueryConfig, QueryResult, QueryResultRow } from 'pg';
import { LLMError } from '../../errors/llm-error.js';
import { importOptional } from '../../util/optional-import.js';
import { clientErrorNotShown, hideClientError, isAddressSure, isHiddenClientError, postgresPortText, redactPostgresUrl } from '../../util/redact-url.js';
import { MAX_TIMER_MS } from '../../util/timer-delay.js';
import { POSTGRES_INDEXES, POSTGRES_MIGRATIONS } from './postgres-schema.js';

export interface PostgresOpenOptions {
  /** Schema for the tables (created if missing). Default `public`. */
  schema?: string;
  poolMax?: number;
  /**
   * Create or upgrade the llmrr tables (default true). A reader that must not change the database (`llmrr
   * audit verify`) passes false: the connection is only tried, and a missing table stays missing.
   */
  migrate?: boolean;
  /**
   * Bound of each query and transaction, ms (default `DEFAULT_POSTGRES_QUERY_TIMEOUT_MS`, 5000): the server cancels a
   * statement running longer (the session's `statement_timeout`; a transaction's waits for a lock too), and the client
   * gives up on one whose answer is a second later than that (a server that stopped answering: a partition), closing
   * its connection. Either is `store_unavailable` (the first saying the server cancelled the statement at its bound;
   * its connection, which answered, is kept). The schema's creation or upgrade is not bounded. Set on each new
   * connection (`SET statement_timeout`), after the connection string's parameters and the role's or database's
   * own `statement_timeout` (`ALTER ROLE ... SET`), which it overrides. The same SET bounds how long a session may
   * stay idle in a transaction (`idle_in_transaction_session_timeout`, `idleInTransactionTimeoutMs`: this plus 2 s):
   * the server ends the session of a client that stopped sending in the middle of one (a paused process, a partition
   * that also lost the connection's close), and its locks go with it, instead of holding them until TCP gives up.
   */
  queryTimeoutMs?: number;
  /**
   * Bound of each report read (usage summaries, invoices, usage entries, audit listings), ms (default
   * `DEFAULT_POSTGRES_REPORT_TIMEOUT_MS`, 60 000): a scan of a large ledger that would outrun `queryTimeoutMs`, whose
   * bound stays short for key lookups and ledger writes. As `queryTimeoutMs` (`SET LOCAL statement_timeout` of the
   * report's transaction, the client a second later), the wait for a turn included: at most `reportConnections` of
   * the pool's connections run reports at once.
   */
  reportTimeoutMs?: number;
  /** Seam for tests: the dynamic import of `pg` and of `pg/package.json` (its version, named when it is too old). */
  importer?: (specifier: string) => Promise<unknown>;
}

/** Default bound of each PostgreSQL query and transaction of the shared stores (`queryTimeoutMs`, ms). */
export const DEFAULT_POSTGRES_QUERY_TIMEOUT_MS = 5_000;

/** Default bound of each report read of the shared stores (`reportTimeoutMs`, ms). */
export const DEFAULT_POSTGRES_REPORT_TIMEOUT_MS = 60_000;

/**
 * How long a session may stay idle in a transaction before the server ends it (`idle_in_transaction_session_timeout`),
 * ms, for a transaction bound (`timeoutMs`: the client gives up a second later and closes the connection): that bound
 * plus 2 s. Set on each connection for `queryTimeoutMs` (the unbounded migration's transaction has no idle bound) and by each bounded
 * transaction for its own bound (`SET LOCAL`: an audit append's or a report's may be longer), so a gap between a
 * transaction's statements (a late JS step, an answer a busy process reads late) within its bound never ends it; it
 * ends the session of a client that stopped sending (a paused process; a partition, the connection's close lost
 * too) and releases its locks. A lock wait is a running statement, not idle.
 */
function idleInTransactionTimeoutMs(queryTimeoutMs: number): number {
  // (PostgreSQL's largest value for the setting: a bound near it would make every connection's SET fail.)
  return Math.min(PG_MAX_TIMEOUT_MS, queryTimeoutMs + 2 * CLIENT_TIMEOUT_GRACE_MS);
}

/** The largest value PostgreSQL takes for its timeout settings (ms). */
const PG_MAX_TIMEOUT_MS = 2_147_483_647;

/** The range of `pg` whose pool runs `onConnect` (the peer range of @llmrr/core). */
const PG_RANGE = '^8.20.0';

/** Options of `PostgresHandle.transaction` (`T`: its result). */
export interface TransactionOptions<T = unknown> {
  /** Bound (default `queryTimeoutMs`; `Infinity`: unbounded, for the schema's migration). */
  timeoutMs?: number;
  /** Starts it READ ONLY (a report): a late COMMIT answer then leaves nothing in doubt. */
  readOnly?: boolean;
  /**
   * REPEATABLE READ instead of READ COMMITTED: every statement reads one snapshot, taken at the first (a budget carry's
   * reads, with a budget store's read between them). Only for reads: no lock is waited for in it.
   */
  snapshot?: boolean;
  /**
   * How to tell, when the COMMIT's answer does not come in time or its connection is lost, whether the transaction
   * committed: a statement (`sql`, `params`) that waits for a lock this transaction holds until its end (its advisory
   * lock; `FOR SHARE` of a row it locked `FOR UPDATE` or changed). It runs on another connection, in a transaction of
   * the same bound: the transaction's status (`txid_status` of its id, taken at BEGIN) is read first, and only while
   * it is in progress is the lock waited for (once granted, the transaction has ended) and the status read again; it
   * says whether it committed: then it is reported done (its result), else `store_unavailable`. Without it, or when
   * the read-back cannot tell in time (the lock still held: the COMMIT did not reach the server, which keeps the
   * transaction until it notices the connection gone or `idle_in_transaction_session_timeout` ends the session;
   * PostgreSQL cannot be reached), `store_unavailable` saying the change may have been written
   * (`details.mayHaveBeenWritten: true`).
   */
  readBack?: { sql: string; params?: unknown[] };
  /**
   * Whether the transaction's result says it changed anything (a statement that matched no row changed nothing): one
   * that did not is answered with its result when its COMMIT's answer is lost, without a read-back (whether it
   * committed changes nothing). Without it, every transaction is taken to have changed something.
   */
  changed?: (result: T) => boolean;
  /**
   * What the result says of the change, added to the `details` of the failure saying it may have been written (the
   * tenant of a changed key, `tenantId`): the caller's record of a change that may have been made names it.
   */
  unconfirmed?: (result: T) => Record<string, unknown>;
}

/**
 * Checks a PostgreSQL bound (`param` names the option): a positive integer (ms) a timer can wait for with the client's
 * grace added, else `config_invalid`.
 */
export function postgresTimeout(value: number | undefined, fallback: number, param: string): number {
  const ms = value ?? fallback;
  if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 1 || ms > MAX_TIMER_MS - CLIENT_TIMEOUT_GRACE_MS) {
    throw new LLMError({ code: 'config_invalid', message: `${param} must be a positive integer (ms) of at most ${MAX_TIMER_MS - CLIENT_TIMEOUT_GRACE_MS}, got ${String(ms)}`, param });
  }
  return ms;
}

/**
 * The pool options `openPostgres` gives pg. `onConnect` is pg-pool's hook (pg 8.20 and later), run on each new
 * connection and awaited before the pool hands it out: a rejection fails that checkout and closes the connection.
 * (@types/pg has it return void, which would let a hook that is not awaited through.)
 */
interface PgPoolConfig extends Pick<PoolConfig, 'connectionString' | 'max' | 'connectionTimeoutMillis' | 'keepAlive' | 'keepAliveInitialDelayMillis'> {
  onConnect: (client: ClientBase) => Promise<void>;
}

interface PgModule {
  Pool: new (config: PgPoolConfig) => Pool;
  Client: new (config: ClientConfig) => Client;
}

const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * A pg pool shared by the shared-mode stores, and the connection of its readiness pings (one more, outside the
 * pool, opened by the first `ping`); both close with the last `release()`.
 */
export class PostgresHandle {
  private refs = 0;
  private closed = false;
  /** The ping's own connection, once opened (dropped on a failure or a ping out of time, reopened by the next). */
  private pinger: Promise<Client> | undefined;
  /** Places of the reports (`report`): a quarter of the pool, at least one, so slow reports leave the rest to the hot path. */
  private readonly reportSlots: Slots;

  constructor(
    readonly pool: Pool,
    readonly schema: string,
    /** Creates the ping's connection (not connected yet); without it, pings go through the pool. */
    private readonly pingClient?: () => Client,
    /** Bound of each query and of a transaction given none (`PostgresOpenOptions.queryTimeoutMs`). */
    readonly queryTimeoutMs: number = DEFAULT_POSTGRES_QUERY_TIMEOUT_MS,
    /** Bound of each report read (`report`, `PostgresOpenOptions.reportTimeoutMs`). */
    readonly reportTimeoutMs: number = DEFAULT_POSTGRES_REPORT_TIMEOUT_MS,
    /**
     * The URL's address is not sure (`isAddressSure` false): the client's errors that may name what it parsed (a piece
     * of the password) are shown as `hideClientError` shows them (see `shownError`).
     */
    private readonly hideClientErrors = false,
  ) {
    this.reportSlots = new Slots(reportConnections(this.poolMax), (ms) =>
      new LLMError({ code: 'store_unavailable', message: `PostgreSQL: a report did not start within ${ms} ms (earlier reports of this process hold the ${reportConnections(this.poolMax)} pool connection(s) reports may take)` }),
    );
  }

  /**
   * Whether a checkout now would get a connection without waiting: no checkout is waiting already, and the pool has an
   * idle connection or may open another. For best-effort work (a key's `lastUsedAt`) that gives way to the rest.
   */
  get connectionFree(): boolean {
    const pool = this.pool;
    return pool.waitingCount === 0 && (pool.idleCount > 0 || pool.totalCount < this.poolMax);
  }

  /** Connections the pool opens at most. */
  get poolMax(): number {
    return this.pool.options.max ?? 10;
  }

  retain(): this {
    this.refs += 1;
    return this;
  }

  async release(): Promise<void> {
    this.refs -= 1;
    if (this.refs <= 0 && !this.closed) {
      this.closed = true;
      this.dropPinger(this.pinger);
      await this.pool.end();
    }
  }

  /**
   * One statement on a pool connection (autocommit), its rows. The server cancels it past `queryTimeoutMs` (the
   * session's `statement_timeout`; the connection, which answered, is given back); the client gives up a second later
   * (no answer: a partition, a hung server) and closes that connection instead of giving it back. Both are
   * `store_unavailable`. For reads: a write whose effect must be known when its answer is lost is a `transaction`
   * with a `readBack`, an idempotent one an `execute`.
   */
  async query<R extends QueryResultRow = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<R[]> {
    return (await this.statement<R>(sql, params, false)).rows;
  }

  /**
   * A report read (a usage summary, an invoice, usage entries, an audit listing): `query` with the longer bound
   * `reportTimeoutMs`, in a READ ONLY transaction of its own (`SET LOCAL statement_timeout`), so the bound of the other
   * queries (`queryTimeoutMs`) can stay short. Three round trips, not for a request's hot path. At most a quarter of
   * the pool's connections (`reportConnections`, at least one) run reports at once; the others wait for their turn
   * within the same bound, so slow reports never take the connections key lookups and ledger writes need.
   */
  async report<R extends QueryResultRow = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<R[]> {
    return this.snapshotReport(async (c) => (await c.query<R>(sql, params)).rows, false);
  }

  /**
   * `fn` as a report (its turn among the reports, `reportTimeoutMs`, READ ONLY), in one REPEATABLE READ snapshot when
   * `snapshot` (a budget carry's reads: see `UsageLedger.carryRead`).
   */
  async snapshotReport<T>(fn: (client: PoolClient) => Promise<T>, snapshot = true): Promise<T> {
    const deadline = performance.now() + this.reportTimeoutMs;
    await this.reportSlots.acquire(this.reportTimeoutMs);
    try {
      const left = deadline - performance.now();
      if (left < 1) throw new LLMError({ code: 'store_unavailable', message: `PostgreSQL: a report did not start within ${this.reportTimeoutMs} ms (its turn came too late)` });
      return await this.transaction(fn, { timeoutMs: left, readOnly: true, ...(snapshot ? { snapshot: true } : {}) });
    } finally {
      this.reportSlots.release();
    }
  }

  /**
   * `query` for a write whose rows are not needed (an idempotent one: a ledger row keyed by its request id, a
   * timestamp), the number of rows it changed (`rowCount`). Sent, and its answer lost (none in time, the connection
   * lost), it may have run all the same: the `store_unavailable` then says the change may have been written (a retry
   * of the same write is how to settle it).
   */
  async execute(sql: string, params: unknown[] = []): Promise<number> {
    return (await this.statement(sql, params, true)).rowCount ?? 0;
  }

  /** `query` and `execute`: one statement on a connection of its own, given back unless it failed without an answer. */
  private async statement<R extends QueryResultRow>(sql: string, params: unknown[], write: boolean): Promise<QueryResult<R>> {
    const checkout = await this.connect();
    try {
      const result = await checkout.client.query<R>(this.bounded(sql, params));
      checkout.release(false);
      return result;
    } catch (e) {
      // An error the server answered leaves the connection usable (autocommit: no transaction is left open); without
      // an answer (late, lost) the connection's state is unknown, and a write may have run.
      const answered = serverAnswered(e);
      checkout.release(!answered);
      const failure = this.queryError(e);
      if (write && !answered && isUnavailable(failure) && !(e instanceof Error && NOT_SENT.test(e.message))) {
        const err = failure as LLMError;
        throw mayHaveBeenWritten(`${err.message} (after it was sent: the change may have been written)`, err.cause ?? err);
      }
      throw failure;
    }
  }

  /** A statement with pg's per-query `query_timeout` (its types leave it out): past it, pg-pool closes the connection. */
  private bounded(text: string, values: unknown[]): QueryConfig {
    const q: QueryConfig & { query_timeout: number } = { text, values, query_timeout: this.queryTimeoutMs + CLIENT_TIMEOUT_GRACE_MS };
    return q;
  }

  private queryError(e: unknown): unknown {
    e = shownError(e, this.hideClientErrors);
    if (e instanceof Error && e.message === QUERY_READ_TIMEOUT) {
      return new LLMError({ code: 'store_unavailable', message: `PostgreSQL did not answer a query within ${this.queryTimeoutMs + CLIENT_TIMEOUT_GRACE_MS} ms`, cause: e });
    }
    return postgresError(e, this.queryTimeoutMs);
  }

  /**
   * `SELECT 1` within `timeoutMs` (a readiness probe), over a connection of its own: a pool whose connections
   * are all busy (queries waiting on a lock, a long report) does not delay it. A failure, or no answer in time
   * (a stalled server, a connection that cannot be opened), is `store_unavailable`, and the next ping opens a
   * new connection.
   */
  ping(timeoutMs: number): Promise<void> {
    if (this.closed) return Promise.reject(new LLMError({ code: 'store_unavailable', message: 'PostgreSQL: the connection is closed' }));
    const shown = (e: unknown) => Promise.reject(shownError(e, this.hideClientErrors));
    if (!this.pingClient) return bounded(this.pool.query('SELECT 1').catch(shown), timeoutMs, () => undefined);
    const pinger = (this.pinger ??= this.openPinger(this.pingClient));
    return bounded(pinger.then((c) => c.query('SELECT 1')).catch(shown), timeoutMs, () => this.dropPinger(pinger));
  }

  private openPinger(create: () => Client): Promise<Client> {
    const client = create();
    const opened = client.connect().then(() => client);
    // A connection lost while idle emits on the client; without a listener that would crash the process.
    client.on('error', () => this.dropPinger(opened));
    return opened;
  }

  /** Forgets `pinger` when it is the current one, closing its connection once open (a failed one closed itself). */
  private dropPinger(pinger: Promise<Client> | undefined): void {
    if (pinger === undefined || this.pinger !== pinger) return;
    this.pinger = undefined;
    pinger.then((c) => c.end()).catch(() => undefined);
  }

  /**
   * Runs `fn` in a READ COMMITTED transaction on one connection, whatever the database's
   * `default_transaction_isolation` (REPEATABLE READ with `snapshot`, for reads only). The stores rely on it: each statement sees what committed before it, so a
   * read after `pg_advisory_xact_lock` (the audit chain's head, the schema version) sees the previous holder's
   * commit, and `SELECT ... FOR UPDATE` reads the latest row instead of failing. Under REPEATABLE READ or
   * SERIALIZABLE the snapshot is taken at the first statement, before the lock is granted: concurrent audit
   * appends computed the same `seq` (a primary key violation) and concurrent tenant or key changes failed with
   * serialization errors.
   *
   * `timeoutMs` (default `queryTimeoutMs`; `Infinity`: unbounded, for the schema's migration): the transaction's
   * waits for a lock and each of its statements are bounded by the server
   * (`SET LOCAL lock_timeout`, `statement_timeout`), and the whole, the wait for a pool connection and the COMMIT
   * included, by a timer a second longer (a server that stopped answering); past either it fails with
   * `store_unavailable` and its connection is closed. A COMMIT whose answer is late or whose connection is lost may
   * have been applied all the same: `readBack` (see `TransactionOptions`) then reads on a new connection whether it
   * was (at most the same bound again), so a change that committed is reported done and one that did not is
   * `store_unavailable`; without one (or when it cannot tell) the failure says the change may have been written
   * (with what `unconfirmed` says of it). One whose result says it changed nothing (`changed`) is answered with it.
   * A failed connection, a terminated session or a pool that gives no connection in time is `store_unavailable` too.
   */
  async transaction<T>(fn: (client: PoolClient) => Promise<T>, options: TransactionOptions<T> = {}): Promise<T> {
    const timeoutMs = options.timeoutMs ?? this.queryTimeoutMs;
    // Unbounded (the migration, which waits for other start-ups' upgrades): no bound on its statements, nor on the gaps
    // between them (a start-up busy with other work), which the connection's idle bound would otherwise set.
    if (timeoutMs === Infinity) return run(await this.connect(), fn, 'BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL statement_timeout = 0; SET LOCAL idle_in_transaction_session_timeout = 0', {}, undefined);
    const ms = Math.max(1, Math.ceil(timeoutMs));
    // The session's idle bound follows the transaction's own (an audit append's or a report's may be longer than the
    // connection's, set for `queryTimeoutMs`): a gap between its statements (a late JS step, an answer a busy process
    // reads late) within its bound never ends it.
    const begin = `BEGIN ISOLATION LEVEL ${options.snapshot ? 'REPEATABLE READ' : 'READ COMMITTED'}${options.readOnly ? ' READ ONLY' : ''}; SET LOCAL lock_timeout = ${ms}; SET LOCAL statement_timeout = ${ms}; SET LOCAL idle_in_transaction_session_timeout = ${idleInTransactionTimeoutMs(ms)}${options.readBack ? '; SELECT txid_current()::text AS txid' : ''}`;
    // What the read-back needs: the transaction's id, its result, and whether its COMMIT was sent.
    const sent: Sent<T> = { committing: false };
    try {
      return await this.within(fn, begin, ms, sent);
    } catch (e) {
      // A COMMIT sent whose answer did not come (late, or its connection lost): it may have been applied.
      if (!sent.committing || options.readOnly || !isUnavailable(e)) throw e;
      const result = sent.result as T;
      // It changed nothing (a statement matching no row): committed or not, its result stands.
      if (options.changed && !options.changed(result)) return result;
      const err = e as LLMError;
      const committed = options.readBack && sent.txid !== undefined ? await this.committed(sent.txid, options.readBack, ms).catch(() => undefined) : undefined;
      if (committed === true) return result;
      if (committed === false) throw err;
      throw mayHaveBeenWritten(`${err.message} (at its COMMIT: the change may have been written)`, err, options.unconfirmed?.(result));
    }
  }

  /** `run` within `ms` (+ the client's grace), the wait for a connection included; past it, its connection is closed. */
  private within<T>(fn: (client: PoolClient) => Promise<T>, begin: string, ms: number, sent: Sent<T>): Promise<T> {
    // Waits for a lock and statements are bounded by the server; the wait for a connection, and a server that stops
    // answering (a partition, a COMMIT's answer lost), by the timer, one second later, which drops the connection
    // (its transaction ends when the server notices).
    return new Promise<T>((resolve, reject) => {
      let over = false;
      let drop: (() => void) | undefined;
      const timer = setTimeout(() => {
        over = true;
        drop?.();
        reject(new LLMError({ code: 'store_unavailable', message: `PostgreSQL did not finish a transaction within ${ms} ms` }));
      }, ms + CLIENT_TIMEOUT_GRACE_MS);
      this.connect().then(
        (checkout) => {
          if (over) return checkout.release(false);
          drop = () => checkout.release(true);
          const hooks: RunHooks<T> = {
            begun: (txid) => (sent.txid = txid),
            commit: (result) => {
              if (over) return false;
              sent.result = result;
              sent.committing = true;
              return true;
            },
          };
          run(checkout, fn, begin, hooks, ms).then(
            (v) => {
              clearTimeout(timer);
              resolve(v);
            },
            (e: unknown) => {
              clearTimeout(timer);
              reject(e);
            },
          );
        },
        (e: unknown) => {
          clearTimeout(timer);
          reject(e);
        },
      );
    });
  }

  /**
   * Whether the transaction `txid` committed, read on a new connection: its status (`txid_status`) when already final,
   * else once `readBack`'s lock is granted (that transaction has ended then; its COMMIT may have been on its way):
   * true, false, or undefined when its status is still open (the lock did not wait for it). A final status is never
   * held up by the lock, which another session may hold for its own reasons (another gateway's change of the row).
   */
  private committed(txid: string, readBack: NonNullable<TransactionOptions['readBack']>, ms: number): Promise<boolean | undefined> {
    const STATUS = `SELECT txid_status($1::bigint) AS status`;
    const outcome = (status: string | null | undefined) => (status === 'committed' ? true : status === 'aborted' ? false : undefined);
    return this.transaction(
      async (c) => {
        const first = outcome((await c.query<{ status: string | null }>(STATUS, [txid])).rows[0]?.status);
        if (first !== undefined) return first;
        await c.query(readBack.sql, readBack.params ?? []);
        return outcome((await c.query<{ status: string | null }>(STATUS, [txid])).rows[0]?.status);
      },
      // Not READ ONLY: the lock may be a row lock (`FOR SHARE`), which a read-only transaction refuses.
      { timeoutMs: ms },
    );
  }

  /**
   * `fn` on a pool connection outside any transaction (its statements autocommit), not bounded by this handle (the
   * connection's `statement_timeout` stays in force unless `fn` changes it); the connection is closed afterwards,
   * not given back, so nothing `fn` set on its session outlives it. For the schema's upgrade.
   */
  async session<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    const checkout = await this.connect();
    try {
      return await fn(checkout.client);
    } catch (e) {
      throw postgresError(shownError(e, this.hideClientErrors));
    } finally {
      checkout.release(true);
    }
  }

  private async connect(): Promise<Checkout> {
    try {
      return new Checkout(await this.pool.connect(), this.hideClientErrors);
    } catch (e) {
      // (The new connection's SET, `onConnect`, is bounded as a query.)
      throw this.queryError(e);
    }
  }
}

/** Pool connections the reports of one handle hold at most: a quarter of the pool, at least one. */
export function reportConnections(poolMax: number): number {
  return Math.max(1, Math.floor(poolMax / 4));
}

/**
 * `max` places (pool connections a kind of work may hold at once: the audit appends, the reports); a waiter gives up
 * after its `timeoutMs` with the error `late` makes.
 */
export class Slots {
  private used = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(
    private readonly max: number,
    private readonly late: (timeoutMs: number) => Error,
  ) {}

  acquire(timeoutMs: number): Promise<void> {
    if (this.used < this.max) {
      this.used += 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const grant = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(grant);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(this.late(timeoutMs));
      }, timeoutMs);
      this.waiters.push(grant);
    });
  }

  /** Hands the place to the next waiter, if any. */
  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.used -= 1;
  }
}

/**
 * One checkout of a pool client, given back once (pg-pool hands the same client object out again). While it is
 * out, the client's `error` events are heard here: pg-pool listens only to idle clients, and a connection lost
 * under a query (whose failure that query reports) emits one too, which unheard would end the process.
 */
class Checkout {
  private released = false;
  constructor(
    readonly client: PoolClient,
    /** Its handle's `hideClientErrors`. */
    readonly hideClientErrors = false,
  ) {
    client.on('error', ignoreError);
  }

  /** Gives the client back, or with `destroy` closes its connection and drops it from the pool. */
  release(destroy: boolean): void {
    if (this.released) return;
    this.released = true;
    this.client.removeListener('error', ignoreError);
    this.client.release(destroy);
  }
}

function ignoreError(): void {}

/** What a bounded transaction's read-back needs to know of it. */
interface Sent<T> {
  /** Its id (`txid_current()`), when asked for at BEGIN. */
  txid?: string;
  /** `fn`'s result, once the COMMIT is about to be sent. */
  result?: T;
  /** The COMMIT was sent. */
  committing: boolean;
}

interface RunHooks<T> {
  /** Given the transaction's id when `begin` ends with a `SELECT ... AS txid`. */
  begun?: (txid: string) => void;
  /** Asked before the COMMIT is sent: false (the transaction is out of time) sends none. */
  commit?: (result: T) => boolean;
}

/**
 * `fn` between `begin` and COMMIT on the checkout's client, which it then gives back; a failed connection
 * (or one that timed out) is closed and dropped from the pool (`release(true)`), not given back with a
 * transaction open; another failure (a statement the server cancelled at the transaction's bound, `boundMs`,
 * included) is rolled back.
 */
async function run<T>(checkout: Checkout, fn: (client: PoolClient) => Promise<T>, begin: string, hooks: RunHooks<T>, boundMs: number | undefined): Promise<T> {
  const { client } = checkout;
  try {
    const begun: unknown = await client.query(begin);
    if (hooks.begun && Array.isArray(begun)) {
      const txid = (begun[begun.length - 1] as { rows?: Array<{ txid?: unknown }> } | undefined)?.rows?.[0]?.txid;
      if (typeof txid === 'string') hooks.begun(txid);
    }
    const result = await fn(client);
    if (hooks.commit && !hooks.commit(result)) throw new LLMError({ code: 'store_unavailable', message: 'PostgreSQL: the transaction ran out of time before its COMMIT' });
    await client.query('COMMIT');
    checkout.release(false);
    return result;
  } catch (e) {
    const failure = postgresError(shownError(e, checkout.hideClientErrors), boundMs);
    if (isUnavailable(failure) && !serverAnswered(e)) checkout.release(true);
    else {
      await client.query('ROLLBACK').catch(() => undefined);
      checkout.release(false);
    }
    throw failure;
  }
}

/** `query` within `timeoutMs`, as `store_unavailable` when it fails or is late (then `onFailure` runs). */
function bounded(query: Promise<unknown>, timeoutMs: number, onFailure: () => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      onFailure();
      reject(new LLMError({ code: 'store_unavailable', message: `PostgreSQL did not answer SELECT 1 within ${timeoutMs} ms` }));
    }, timeoutMs);
    query.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      (e: unknown) => {
        clearTimeout(timer);
        onFailure();
        reject(new LLMError({ code: 'store_unavailable', message: `PostgreSQL failed SELECT 1: ${(e as Error)?.message ?? String(e)}`, cause: e }));
      },
    );
  });
}

/**
 * PostgreSQL's refusals of a value the caller gave (not of the database's state): a NUL or a character the
 * encoding lacks in text or jsonb (22021, 22P05), a number past a column's range (22003).
 */
const REFUSED_VALUE_CODES: ReadonlySet<string> = new Set(['22021', '22P05', '22003']);

/**
 * How much longer than a query's or transaction's server-side bound the client waits before dropping the connection
 * (ms): a server that answers reports its own bound first (57014), and only one that does not answer is given up on.
 */
const CLIENT_TIMEOUT_GRACE_MS = 1_000;

/** pg's error for a query without an answer past its `query_timeout`. */
const QUERY_READ_TIMEOUT = 'Query read timeout';

/**
 * SQLSTATEs of a database that is not there for us right now: the connection failed or the server ended the
 * session (class 08; 57P01-57P05: shut down, crashed, starting up, database dropped, idle session timeout), too
 * many connections (53300), or a bound of ours ran out (`CANCELLED_STATE`).
 */
const UNAVAILABLE_STATE = /^(08...|57P0[1-5]|53300|55P03|57014)$/;

/**
 * SQLSTATEs of a statement the server cancelled, for a bound of ours (57014 `statement_timeout`, 55P03
 * `lock_timeout`; 57014 also for a `pg_cancel_backend`): the server is up and answering, the statement did not run.
 */
const CANCELLED_STATE = /^(57014|55P03)$/;

/** The server's (English) message of a 57014 cancelled at `statement_timeout`, not at a cancel request. */
const STATEMENT_TIMEOUT = /\bstatement timeout\b/;

/** pg's errors of a query it never sent (the client had failed or was closed before it). */
const NOT_SENT = /^(Client has encountered a connection error|Client was closed and is not queryable)/;

/** Socket errors of the connection (no SQLSTATE: the server never answered). */
const UNAVAILABLE_ERRNO: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * pg's own connection failures, which carry no code: a connection that ended ("Connection terminated
 * unexpectedly", "... due to connection timeout"), a pool checkout past `connectionTimeoutMillis`, a client that
 * failed before (not queryable), a query without an answer past its `query_timeout` ("Query read timeout").
 */
const DRIVER_UNAVAILABLE = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed and is not queryable|Query read timeout)/;

/**
 * A driver error as the stores' error: a refused value is `invalid_request` (400), a database that cannot be
 * reached or did not answer in time `store_unavailable` (503, retryable; the message is pg's, which names no
 * credential, and the gateway does not show it to clients), anything else unchanged. A statement the server
 * cancelled (at a bound of ours, `boundMs` when known, or at a cancel request) is `store_unavailable` too, saying
 * so: the server is up.
 */
export function postgresError(e: unknown, boundMs?: number): unknown {
  if (LLMError.isInstance(e)) return e;
  const { code, severity } = (e ?? {}) as { code?: unknown; severity?: unknown };
  if (typeof code === 'string' && CANCELLED_STATE.test(code) && severity !== 'FATAL') {
    // (The server's message says why: "canceling statement due to statement timeout", "... lock timeout", or "... user
    // request", a pg_cancel_backend: 57014 is the first and the last, so the wording is the server's. Our bound is
    // added for a lock wait's, 55P03, and a 57014 saying "statement timeout"; not for a cancel request, nor for a
    // message the server words in another language, whose reason cannot be told.)
    const timedOut = code === '55P03' || STATEMENT_TIMEOUT.test((e as Error).message);
    const bound = boundMs === undefined || !timedOut ? '' : ` (the statement's bound: ${boundMs} ms)`;
    return new LLMError({ code: 'store_unavailable', message: `PostgreSQL cancelled a statement, the server is up: ${(e as Error).message}${bound}`, cause: e });
  }
  // A FATAL error ends the session (a database not accepting connections, a connection limit, a shutdown).
  const unavailable =
    typeof code === 'string'
      ? UNAVAILABLE_STATE.test(code) || UNAVAILABLE_ERRNO.has(code) || severity === 'FATAL' || severity === 'PANIC'
      : e instanceof Error && e.constructor === Error && DRIVER_UNAVAILABLE.test(e.message);
  if (unavailable) return new LLMError({ code: 'store_unavailable', message: `PostgreSQL is unavailable: ${(e as Error).message}`, cause: e });
  return refusedValueError(e);
}

/** pg's own fixed texts besides `DRIVER_UNAVAILABLE`'s: a connection's SSL negotiation, its SCRAM exchange. */
const PG_FIXED_TEXT = /^(?:The server does not support SSL connections$|There was an error establishing an SSL connection$|SASL: )/;

/**
 * `e` as a handle shows it: unchanged, but with `hide` (the URL's address is not sure, see `isAddressSure`) a client
 * error that may name what the client parsed of the URL (a piece of the password as host, port, user or database): a
 * socket error (`connect ECONNREFUSED <host>:<port>`), a server's FATAL or authorization error (`password
 * authentication failed for user ...`, `database ... does not exist`), anything unknown, as `hideClientError` shows
 * it (its kind: the code, e.g. `ECONNREFUSED`, `28P01 authentication failed`). pg's own fixed texts (a connection
 * that ended or timed out, a query read timeout, a server without SSL; without a cause they carry) and the server's
 * answer to a statement (a refused value, a cancelled statement) name nothing of the URL, and stay. The same at the
 * first connect (`openPostgres`) as after it.
 */
function shownError(e: unknown, hide: boolean): unknown {
  if (!hide || LLMError.isInstance(e)) return e;
  if (e instanceof Error && e.constructor === Error && (DRIVER_UNAVAILABLE.test(e.message) || PG_FIXED_TEXT.test(e.message))) {
    // Without what it may carry as its cause (pg-pool's connection timeout keeps the client's error).
    return e.cause === undefined ? e : new Error(e.message);
  }
  const code = (e as { code?: unknown } | null)?.code;
  if (serverAnswered(e) && typeof code === 'string' && !/^(28|3D)/.test(code)) return e;
  return hideClientError(e);
}

/**
 * The `store_unavailable` of a write sent whose answer was lost: it may have been applied all the same.
 * `details.mayHaveBeenWritten` says so to the caller (the gateway's admin API tells its client to check before retrying).
 */
function mayHaveBeenWritten(message: string, cause: unknown, details?: Record<string, unknown>): LLMError {
  return new LLMError({ code: 'store_unavailable', message, details: { mayHaveBeenWritten: true, ...details }, cause });
}

function isUnavailable(e: unknown): boolean {
  return LLMError.isInstance(e) && e.code === 'store_unavailable';
}

/**
 * An error the server sent as its answer to a statement (it has a severity and a SQLSTATE), one that did not end the
 * session (a FATAL, a connection failure, a shutdown; a cancellation does not): the statement did not run, and the
 * connection goes on.
 */
function serverAnswered(e: unknown): boolean {
  const { code, severity } = (e ?? {}) as { code?: unknown; severity?: unknown };
  if (typeof severity !== 'string' || severity === 'FATAL' || severity === 'PANIC' || typeof code !== 'string') return false;
  return CANCELLED_STATE.test(code) || !UNAVAILABLE_STATE.test(code);
}

/**
 * Refuses, at once, a port pg cannot connect to (not a number from 1 to 65535): the query's `?port=` over the URL's
 * own (`postgresPortText`), or with neither `PGPORT`, which pg then reads. pg reads it with `parseInt` and its
 * socket's connect throws where nothing catches it (pg 8.23), so the pool's connect never settles, and a start waits
 * for ever (PGPORT=99999 crashed the process). A URL's own port past 65535 makes it a URL that does not parse (WHATWG
 * URL, pg's too): `unparsedOwnPort`. The port is named when it is short plain text and cannot be a piece of the user
 * info (the URL's address is sure); else only where it came from.
 */
function refuseUnusablePort(url: string): void {
  const read = postgresPortText(url);
  if (!read) {
    const own = unparsedOwnPort(url);
    if (own && !isUsablePort(own.port)) {
      const named = own.sure && own.port.length <= 16 ? ` "${own.port}"` : '';
      const hint = own.sure ? '' : ` (as pg reads the URL; if that is a piece of the password, give a URL whose user info has '/', '?', '#' and '@' percent-encoded: %2F, %3F, %23, %40)`;
      throw new LLMError({ code: 'config_invalid', message: `Cannot prepare PostgreSQL at ${redactPostgresUrl(url)}: its port${named} (the URL's) is not a number from 1 to 65535${hint}` });
    }
    return;
  }
  // (pg reads PGPORT with parseInt, which skips the spaces around it: `5432 ` is 5432.)
  const env = (process.env.PGPORT ?? '').trim();
  const { port, from } = read.port ? { port: read.port, from: read.inQuery ? '?port=' : "the URL's" } : { port: env, from: 'PGPORT' };
  if (!port || isUsablePort(port)) return;
  const named = (from === 'PGPORT' || isAddressSure(url)) && /^[A-Za-z0-9_.+-]{1,16}$/.test(port) ? ` "${port}"` : '';
  throw new LLMError({ code: 'config_invalid', message: `Cannot prepare PostgreSQL at ${redactPostgresUrl(url)}: its port${named} (${from}) is not a number from 1 to 65535` });
}

/** Whether `port` is 1 to 5 digits, a number from 1 to 65535 (pg's `parseInt` reads more: `5432abc`, `+5432`). */
function isUsablePort(port: string): boolean {
  return /^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65_535;
}

/**
 * The digits after the last `:` of the host and port of a `postgres:`/`postgresql:` URL that does not parse (its
 * authority, up to its first `/`, `?` or `#`, after its last `@`), as pg would read them had it parsed; undefined when
 * it has none. `sure`: no `@` follows the authority, so they cannot be a piece of user info (a password with an
 * unescaped `/`: `postgres://u:987654/S3CRET@db/app` reads `987654` as the port).
 */
function unparsedOwnPort(url: string): { port: string; sure: boolean } | undefined {
  const m = /^postgres(?:ql)?:\/\/([^/?#]*)([\s\S]*)$/i.exec(url);
  if (!m) return undefined;
  const hostPort = m[1]!.slice(m[1]!.lastIndexOf('@') + 1);
  const port = /:(\d+)$/.exec(hostPort)?.[1];
  return port === undefined ? undefined : { port, sure: !m[2]!.includes('@') };
}

/** A refused value as `invalid_request` (a 400, as SQLite answers the same input); anything else unchanged. */
export function refusedValueError(e: unknown): unknown {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !REFUSED_VALUE_CODES.has(code)) return e;
  return new LLMError({ code: 'invalid_request', message: `A value cannot be stored: ${(e as Error).message}`, cause: e });
}

export async function openPostgres(url: string, options: PostgresOpenOptions = {}): Promise<PostgresHandle> {
  const schema = options.schema ?? 'public';
  if (!SCHEMA_PATTERN.test(schema)) {
    throw new LLMError({ code: 'config_invalid', message: `postgresSchema must match ${SCHEMA_PATTERN} (got "${schema}")`, param: 'postgresSchema' });
  }
  refuseUnusablePort(url);
  const mod = await importOptional<{ default?: PgModule } & Partial<PgModule>>('pg', { engine: PG_ENGINE, install: 'pg@8', ...(options.importer ? { importer: options.importer } : {}) });
  const PoolCtor = mod.default?.Pool ?? mod.Pool;
  const ClientCtor = mod.default?.Client ?? mod.Client;
  if (!PoolCtor) throw new LLMError({ code: 'engine_unavailable', message: 'the installed pg package has no Pool export' });
  const queryTimeoutMs = postgresTimeout(options.queryTimeoutMs, DEFAULT_POSTGRES_QUERY_TIMEOUT_MS, 'postgresQueryTimeoutMs');
  const reportTimeoutMs = postgresTimeout(options.reportTimeoutMs, DEFAULT_POSTGRES_REPORT_TIMEOUT_MS, 'postgresReportTimeoutMs');
  // The schema, the server's bound of each statement (transactions set their own; the client's is per query) and of a
  // session idle in a transaction are set on each new connection before the pool hands it out (pg 8.20's `onConnect`,
  // awaited: a failure or a late answer fails that checkout and drops the connection): not as the pool's startup
  // `options`, which the connection string's own `?options=` (an application_name, a provider's endpoint id) replaces
  // as a whole. This also overrides a role's or database's own settings (`ALTER ROLE ... SET`).
  const session = `SET search_path TO ${schema}; SET statement_timeout = ${queryTimeoutMs}; SET idle_in_transaction_session_timeout = ${idleInTransactionTimeoutMs(queryTimeoutMs)}`;
  // Whether the pool ran the hook: an older pg's pool ignores it (no schema, no bounds), checked on the first connection.
  let hooked = false;
  const pool = new PoolCtor({
    connectionString: url,
    max: options.poolMax ?? 10,
    connectionTimeoutMillis: 5_000,
    // An idle connection to a host that went away is noticed (and dropped by the pool) in seconds, not hours.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    // Bounded as any query (the pool's connection timer has ended by then): a server that stops answering the SET
    // fails the checkout a second past the bound, and the pool, disposing of the client with its query active, closes
    // its socket instead of holding its place until TCP gives up.
    onConnect: async (client) => {
      hooked = true;
      const set: QueryConfig & { query_timeout: number } = { text: session, query_timeout: queryTimeoutMs + CLIENT_TIMEOUT_GRACE_MS };
      await client.query(set);
    },
  });
  // An idle client losing its connection emits on the pool; without a listener that would crash the process.
  pool.on('error', () => undefined);
  const handle = new PostgresHandle(pool, schema, ClientCtor ? () => new ClientCtor({ connectionString: url, connectionTimeoutMillis: 5_000 }) : undefined, queryTimeoutMs, reportTimeoutMs, !isAddressSure(url));
  try {
    // The first connection (given back: the next query takes it) tells whether the pool runs `onConnect`.
    (await pool.connect()).release();
    if (!hooked) throw await onConnectIgnored(options.importer);
    if (options.migrate === false) await handle.query('SELECT 1');
    else await migratePostgres(handle);
  } catch (e) {
    await pool.end().catch(() => undefined);
    // A database that cannot be reached at start is a start-up failure, not a request's retryable 503.
    if (LLMError.isInstance(e) && e.code !== 'store_unavailable') throw e;
    // The client's error names the host it parsed: a piece of the password when the address is not surely read.
    const cause = LLMError.isInstance(e) && e.cause !== undefined ? e.cause : e;
    // As after it: pg's own fixed texts shown (a connection timeout, a server without SSL), a bound's own message too,
    // any other error by its kind only (a socket error's code, a SQLSTATE), never kept as the cause.
    if (!isAddressSure(url)) {
      const shown = cause === e && LLMError.isInstance(e) ? e : shownError(cause, true);
      if (isHiddenClientError(shown)) throw new LLMError({ code: 'engine_unavailable', message: `Cannot prepare PostgreSQL at ${redactPostgresUrl(url)}: ${clientErrorNotShown(shown)}` });
      throw new LLMError({ code: 'engine_unavailable', message: `Cannot prepare PostgreSQL at ${redactPostgresUrl(url)}: ${(shown as Error).message}`, ...(shown === e ? {} : { cause: shown }) });
    }
    throw new LLMError({ code: 'engine_unavailable', message: `Cannot prepare PostgreSQL at ${redactPostgresUrl(url)}: ${(cause as Error)?.message ?? cause}`, cause });
  }
  return handle;
}

const PG_ENGINE = 'PostgreSQL state store (shared mode)';

/**
 * The error of a pg whose pool ignored `onConnect` (pg before 8.20; or a pg-pool pinned below its hook), naming the
 * installed pg's version (from its package.json, through `importer` when given).
 */
async function onConnectIgnored(importer: PostgresOpenOptions['importer']): Promise<LLMError> {
  const version = await packageVersion('pg/package.json', importer);
  // The pool is pg-pool's (a dependency of pg): a pin or an override can hold it below the release with the hook
  // under a recent pg.
  const poolVersion = await packageVersion('pg-pool/package.json', importer);
  const installed = `the installed pg ${version ?? '(version unknown)'} with pg-pool ${poolVersion ?? '(version unknown)'}`;
  return new LLMError({
    code: 'engine_unavailable',
    message: `The ${PG_ENGINE} needs a pg whose pool (pg-pool) runs its onConnect hook, as pg ${PG_RANGE} installs it (each connection's search_path, statement_timeout and idle_in_transaction_session_timeout are set there); ${installed} ignores it: pnpm add pg@${PG_RANGE}, and remove any pin or override of pg-pool`,
    provider: PG_ENGINE,
  });
}

/**
 * pg-pool's package.json as pg resolves it: found from its main file, walking up to the folder of the package named
 * `pg-pool` (its `exports` map has no `./package.json`, so it cannot be required by that name).
 */
function poolPackage(): { version?: unknown } {
  let dir = dirname(createRequire(createRequire(import.meta.url).resolve('pg')).resolve('pg-pool'));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'pg-pool') return pkg;
    }
    const up = dirname(dir);
    if (up === dir) return {};
    dir = up;
  }
}

/** A package's version, `pg/package.json` from here and `pg-pool/package.json` as pg resolves it; undefined when unknown. */
async function packageVersion(path: 'pg/package.json' | 'pg-pool/package.json', importer: PostgresOpenOptions['importer']): Promise<string | undefined> {
  try {
    let pkg: { default?: { version?: unknown }; version?: unknown };
    if (importer) pkg = (await importer(path)) as typeof pkg;
    else if (path === 'pg/package.json') pkg = (await import('pg/package.json', { with: { type: 'json' } })) as typeof pkg;
    else pkg = poolPackage();
    const version = pkg.default?.version ?? pkg.version;
    return typeof version === 'string' ? version : undefined;
  } catch {
    return undefined;
  }
}

async function migratePostgres(handle: PostgresHandle): Promise<void> {
  // Unbounded: start-ups wait here for each other's upgrade. Indexes are not built in it (POSTGRES_INDEXES): only a
  // new database's, over tables this transaction creates (empty, seen by no one before the commit).
  const created = await handle.transaction(async (c) => {
    await c.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`llmrr_migrate:${handle.schema}`]);
    await c.query(`CREATE SCHEMA IF NOT EXISTS ${handle.schema}`);
    await c.query(`SET LOCAL search_path TO ${handle.schema}`);
    await c.query(`CREATE TABLE IF NOT EXISTS ${handle.schema}.llmrr_schema_version (version INTEGER NOT NULL)`);
    const rows = (await c.query<{ version: number }>(`SELECT version FROM ${handle.schema}.llmrr_schema_version`)).rows;
    const version = rows[0]?.version ?? 0;
    for (let i = version; i < POSTGRES_MIGRATIONS.length; i++) await c.query(POSTGRES_MIGRATIONS[i] as string);
    if (rows.length === 0) await c.query(`INSERT INTO ${handle.schema}.llmrr_schema_version (version) VALUES ($1)`, [POSTGRES_MIGRATIONS.length]);
    else if (version < POSTGRES_MIGRATIONS.length) await c.query(`UPDATE ${handle.schema}.llmrr_schema_version SET version = $1`, [POSTGRES_MIGRATIONS.length]);
    if (version > 0) return false;
    for (const index of POSTGRES_INDEXES) await c.query(`CREATE INDEX IF NOT EXISTS ${index.name} ON ${handle.schema}.${index.on}`);
    return true;
  }, { timeoutMs: Infinity });
  if (!created) await buildIndexes(handle);
}

/**
 * Builds the indexes of `POSTGRES_INDEXES` that an existing database lacks, each with `CREATE INDEX CONCURRENTLY`
 * outside any transaction: the table's writers (other processes' audit appends, old versions' during a rolling
 * upgrade) go on during the build, which waits for transactions older than it to end (a long report of another
 * process delays this start-up, not the others). An INVALID index (a build that failed, or whose process died: the
 * schema version was bumped before it) is dropped and built again. Checked on every start (one catalog query); one
 * process builds at a time (a session advisory lock, tried, not waited for: a start that finds another process
 * building goes on without the index, which that process finishes). Unbounded, as the migration.
 */
async function buildIndexes(handle: PostgresHandle): Promise<void> {
  const names = POSTGRES_INDEXES.map((i) => i.name);
  const validity = `SELECT c.relname AS name, i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = ANY($2::text[])`;
  const valid = (rows: Array<{ name: string; valid: boolean }>) => new Set(rows.filter((r) => r.valid).map((r) => r.name));
  if (valid(await handle.query<{ name: string; valid: boolean }>(validity, [handle.schema, names])).size === names.length) return;
  await handle.session(async (c) => {
    // CREATE INDEX CONCURRENTLY cannot be bounded by the pool's statement_timeout (a large table), nor run in a
    // transaction; the connection is closed afterwards (the setting and the lock go with it).
    await c.query(`SET statement_timeout = 0`);
    const locked = (await c.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(hashtext($1)) AS locked`, [`llmrr_index:${handle.schema}`])).rows[0]?.locked;
    if (!locked) return;
    const rows = (await c.query<{ name: string; valid: boolean }>(validity, [handle.schema, names])).rows;
    const done = valid(rows);
    for (const index of POSTGRES_INDEXES) {
      if (done.has(index.name)) continue;
      if (rows.some((r) => r.name === index.name)) await c.query(`DROP INDEX CONCURRENTLY IF EXISTS ${handle.schema}.${index.name}`);
      await c.query(`CREATE INDEX CONCURRENTLY IF NOT EXISTS ${index.name} ON ${handle.schema}.${index.on}`);
    }
  });
}
