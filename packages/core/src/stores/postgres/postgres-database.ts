import type { Client, Pool, PoolClient, QueryResultRow } from 'pg';
import { LLMError } from '../../errors/llm-error.js';
import { importOptional } from '../../util/optional-import.js';
import { redactUrl } from '../../util/redact-url.js';
import { POSTGRES_MIGRATIONS } from './postgres-schema.js';

export interface PostgresOpenOptions {
  /** Schema for the tables (created if missing). Default `public`. */
  schema?: string;
  poolMax?: number;
  /**
   * Create or upgrade the llmrr tables (default true). A reader that must not change the database (`llmrr
   * audit verify`) passes false: the connection is only tried, and a missing table stays missing.
   */
  migrate?: boolean;
}

interface PgModule {
  Pool: new (config: Record<string, unknown>) => Pool;
  Client: new (config: Record<string, unknown>) => Client;
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

  constructor(
    readonly pool: Pool,
    readonly schema: string,
    /** Creates the ping's connection (not connected yet); without it, pings go through the pool. */
    private readonly pingClient?: () => Client,
  ) {}

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

  async query<R extends QueryResultRow = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<R[]> {
    try {
      return (await this.pool.query<R>(sql, params)).rows;
    } catch (e) {
      throw refusedValueError(e);
    }
  }

  /**
   * `SELECT 1` within `timeoutMs` (a readiness probe), over a connection of its own: a pool whose connections
   * are all busy (queries waiting on a lock, a long report) does not delay it. A failure, or no answer in time
   * (a stalled server, a connection that cannot be opened), is `store_unavailable`, and the next ping opens a
   * new connection.
   */
  ping(timeoutMs: number): Promise<void> {
    if (this.closed) return Promise.reject(new LLMError({ code: 'store_unavailable', message: 'PostgreSQL: the connection is closed' }));
    if (!this.pingClient) return bounded(this.pool.query('SELECT 1'), timeoutMs, () => undefined);
    const pinger = (this.pinger ??= this.openPinger(this.pingClient));
    return bounded(pinger.then((c) => c.query('SELECT 1')), timeoutMs, () => this.dropPinger(pinger));
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
   * `default_transaction_isolation`. The stores rely on it: each statement sees what committed before it, so a
   * read after `pg_advisory_xact_lock` (the audit chain's head, the schema version) sees the previous holder's
   * commit, and `SELECT ... FOR UPDATE` reads the latest row instead of failing. Under REPEATABLE READ or
   * SERIALIZABLE the snapshot is taken at the first statement, before the lock is granted: concurrent audit
   * appends computed the same `seq` (a primary key violation) and concurrent tenant or key changes failed with
   * serialization errors.
   */
  async transaction<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL READ COMMITTED');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw refusedValueError(e);
    } finally {
      client.release();
    }
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
  const mod = await importOptional<{ default?: PgModule } & Partial<PgModule>>('pg', { engine: 'PostgreSQL state store (shared mode)', install: 'pg@8' });
  const PoolCtor = mod.default?.Pool ?? mod.Pool;
  const ClientCtor = mod.default?.Client ?? mod.Client;
  if (!PoolCtor) throw new LLMError({ code: 'engine_unavailable', message: 'the installed pg package has no Pool export' });
  const pool = new PoolCtor({
    connectionString: url,
    max: options.poolMax ?? 10,
    connectionTimeoutMillis: 5_000,
    options: `-c search_path=${schema}`,
  });
  // An idle client losing its connection emits on the pool; without a listener that would crash the process.
  pool.on('error', () => undefined);
  const handle = new PostgresHandle(pool, schema, ClientCtor ? () => new ClientCtor({ connectionString: url, connectionTimeoutMillis: 5_000 }) : undefined);
  try {
    if (options.migrate === false) await handle.query('SELECT 1');
    else await migratePostgres(handle);
  } catch (e) {
    await pool.end().catch(() => undefined);
    if (LLMError.isInstance(e)) throw e;
    throw new LLMError({ code: 'engine_unavailable', message: `Cannot prepare PostgreSQL at ${redactUrl(url)}: ${(e as Error)?.message ?? e}`, cause: e });
  }
  return handle;
}

async function migratePostgres(handle: PostgresHandle): Promise<void> {
  await handle.transaction(async (c) => {
    await c.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`llmrr_migrate:${handle.schema}`]);
    await c.query(`CREATE SCHEMA IF NOT EXISTS ${handle.schema}`);
    await c.query(`SET LOCAL search_path TO ${handle.schema}`);
    await c.query(`CREATE TABLE IF NOT EXISTS ${handle.schema}.llmrr_schema_version (version INTEGER NOT NULL)`);
    const rows = (await c.query<{ version: number }>(`SELECT version FROM ${handle.schema}.llmrr_schema_version`)).rows;
    const version = rows[0]?.version ?? 0;
    for (let i = version; i < POSTGRES_MIGRATIONS.length; i++) await c.query(POSTGRES_MIGRATIONS[i] as string);
    if (rows.length === 0) await c.query(`INSERT INTO ${handle.schema}.llmrr_schema_version (version) VALUES ($1)`, [POSTGRES_MIGRATIONS.length]);
    else if (version < POSTGRES_MIGRATIONS.length) await c.query(`UPDATE ${handle.schema}.llmrr_schema_version SET version = $1`, [POSTGRES_MIGRATIONS.length]);
  });
}
