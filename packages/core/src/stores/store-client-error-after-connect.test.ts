/**
 * A store URL whose address is not surely read (`isAddressSure` false: an `@` in a query value that is not a name)
 * connects, and then the server goes away (a loopback proxy in front of the test Redis / PostgreSQL is closed): the
 * errors of later calls must not carry the client's own text, which names the host and port it parsed (a piece of a
 * password in such a URL), nor keep it as a cause; they keep a safe kind (ECONNREFUSED). A URL whose address is sure
 * keeps the client's text.
 */
import { createServer, connect as connectTcp, type Server, type Socket } from 'node:net';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { LLMError } from '../errors/llm-error.js';
import { isAddressSure } from '../util/redact-url.js';
import { testServiceUrls } from './__fixtures__/store-fixtures.js';
import { openPostgres } from './postgres/postgres-database.js';
import { bounded, connectRedis } from './redis/redis-connection.js';

const { redisUrl, postgresUrl } = testServiceUrls();

/** A loopback TCP proxy to `target`; `close()` stops listening and cuts every connection (the server "went away"). */
async function startProxy(target: URL): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connectTcp(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    close: async () => {
      const closed = new Promise((r) => server.close(r));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

async function errorOf(p: Promise<unknown>): Promise<LLMError> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  if (!LLMError.isInstance(e)) throw new Error(`expected LLMError, got ${String(e)}`);
  return e;
}

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
});

describe.skipIf(!redisUrl)('Redis: a client error after the first connect', () => {
  /** The errors of calls made after the proxy closed (the client reconnecting: refused). */
  async function errorsAfterServerGone(url: (port: number) => string): Promise<{ port: number; errors: LLMError[]; lastError: unknown }> {
    const proxy = await startProxy(new URL(redisUrl!));
    cleanup.push(() => proxy.close());
    const handle = (await connectRedis(url(proxy.port), 'after-connect:')).retain();
    cleanup.push(() => handle.release());
    expect(await bounded(handle.command(['PING']), 5_000, 'PING')).toBe('PONG');
    await proxy.close();
    const errors: LLMError[] = [];
    // Until the client has seen its reconnect refused (the call in flight when the socket closed, then the offline
    // client), then once more.
    for (let i = 0; i < 100 && errors.length < 3; i++) {
      errors.push(await errorOf(bounded(handle.command(['PING']), 5_000, 'PING')));
      if (handle.lastError === undefined) errors.pop();
      await new Promise((r) => setTimeout(r, 50));
    }
    errors.push(await errorOf(bounded(handle.eval({ sha: '0'.repeat(40), source: 'return 1' }, [], []), 5_000, 'script')));
    return { port: proxy.port, errors, lastError: handle.lastError };
  }

  // node-redis's errors of the calls are its own fixed texts ("Socket closed unexpectedly", "The client is offline");
  // what names the host and port it parsed is its 'error' event ("connect ECONNREFUSED <host>:<port>"), which the
  // handle keeps as `lastError`.
  it('an address not surely read: no host or port the client parsed in the errors or in lastError; the kind kept', { timeout: 60_000 }, async () => {
    const url = (port: number) => `redis://127.0.0.1:${port}/0?k=S3CRET@cache.invalid`;
    expect(isAddressSure(url(1))).toBe(false);
    const { port, errors, lastError } = await errorsAfterServerGone(url);
    expect(errors.length).toBeGreaterThan(0);
    for (const e of errors) {
      expect(e.code).toBe('store_unavailable');
      expect(inspect(e, { depth: 8 })).not.toContain(String(port));
    }
    expect(inspect(lastError, { depth: 8 })).not.toContain(String(port));
    expect(String((lastError as Error).message)).toMatch(/not shown.*\(ECONNREFUSED\)/);
  });

  it('an address surely read keeps the client error', { timeout: 60_000 }, async () => {
    // (A raw "@" in the query leaves the address not sure, see `isAddressSure`; written %40 it is sure.)
    const { port, lastError } = await errorsAfterServerGone((p) => `redis://default@127.0.0.1:${p}/0?client_name=svc%40prod`);
    expect(String((lastError as Error).message)).toContain(`ECONNREFUSED 127.0.0.1:${port}`);
  });
});

describe.skipIf(!postgresUrl)('PostgreSQL: a client error after the first connect', () => {
  async function errorsAfterServerGone(query: (u: URL) => string): Promise<{ port: number; errors: LLMError[] }> {
    const target = new URL(postgresUrl!);
    const proxy = await startProxy(target);
    cleanup.push(() => proxy.close());
    const via = new URL(postgresUrl!);
    via.hostname = '127.0.0.1';
    via.port = String(proxy.port);
    via.search = '';
    const url = `${via.href}${query(via)}`;
    const pg = (await openPostgres(url, { migrate: false })).retain();
    cleanup.push(() => pg.release());
    await proxy.close();
    const errors = [
      await errorOf(pg.query('SELECT 1')),
      await errorOf(pg.execute('SELECT 1')),
      await errorOf(pg.transaction((c) => c.query('SELECT 1'))),
      await errorOf(pg.ping(5_000)),
      await errorOf(pg.session((c) => c.query('SELECT 1'))),
    ];
    return { port: proxy.port, errors };
  }

  // The first call takes the pooled connection the proxy cut (pg's own "Connection terminated unexpectedly"); the
  // next ones open a new connection, refused ("connect ECONNREFUSED <host>:<port>").
  it('an address not surely read: no host or port the client parsed, no client error as cause; the kind kept', { timeout: 60_000 }, async () => {
    const { port, errors } = await errorsAfterServerGone(() => '?k=S3CRET@db.invalid');
    expect(errors[0]!.message).toBe('PostgreSQL is unavailable: Connection terminated unexpectedly');
    for (const e of errors) {
      expect(e.code).toBe('store_unavailable');
      expect(inspect(e, { depth: 8 })).not.toContain(String(port));
    }
    for (const e of errors.slice(1)) expect(e.message).toMatch(/: the client's error is not shown, as it may name a part of the password \(ECONNREFUSED\)$/);
  });

  it('an address surely read keeps the client error', { timeout: 60_000 }, async () => {
    const { port, errors } = await errorsAfterServerGone(() => '?application_name=svc%40prod');
    for (const e of errors.slice(1)) expect(e.message).toContain(`ECONNREFUSED 127.0.0.1:${port}`);
  });
});
