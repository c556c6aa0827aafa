import { createServer, type Server, type Socket } from 'node:net';
import { inspect } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { LLMError } from '../errors/llm-error.js';
import { ADDRESS_NOT_SHOWN, CLIENT_ERROR_HIDDEN } from '../util/redact-url.js';
import { testServiceUrls } from './__fixtures__/store-fixtures.js';
import { openPostgres } from './postgres/postgres-database.js';
import { connectRedis } from './redis/redis-connection.js';

const URL_ADVICE = "give a URL whose user info has '/', '?', '#' and '@' percent-encoded (%2F, %3F, %23, %40), and any '@' in its query as %40";
const { redisUrl, postgresUrl } = testServiceUrls();

async function errorOf(p: Promise<unknown>): Promise<LLMError> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  if (!LLMError.isInstance(e)) throw new Error(`expected LLMError, got ${String(e)}`);
  return e;
}

/** A loopback port nothing listens on (a server's, closed): a connect to it is refused, and the client says where. */
let refusedPort = 0;
beforeAll(async () => {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  refusedPort = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
});

// A password with an unescaped "@" and then "?" or "/" ("S3@127.0.0.1:<port>?ET"): the client reads its middle as host
// and port, and says so in its own error ("connect ECONNREFUSED 127.0.0.1:<port>").
describe('a store URL whose address is not shown: the client error names no piece of the password', () => {
  it('Redis', { timeout: 60_000 }, async () => {
    const e = await errorOf(connectRedis(`redis://default:S3@127.0.0.1:${refusedPort}?ET@cache.invalid:6379`, 'p:'));
    expect(e.code).toBe('engine_unavailable');
    // What failed is kept (a socket error's code), with the advice.
    expect(e.message).toBe(`Cannot connect to Redis at redis://${ADDRESS_NOT_SHOWN}: ${CLIENT_ERROR_HIDDEN} (ECONNREFUSED): ${URL_ADVICE}`);
    expect(inspect(e, { depth: 8 })).not.toContain(String(refusedPort));
  });

  it('PostgreSQL', { timeout: 60_000 }, async () => {
    const e = await errorOf(openPostgres(`postgres://app:S3@127.0.0.1:${refusedPort}/app?k=ET@db.invalid:5432/app`));
    expect(e.code).toBe('engine_unavailable');
    expect(e.message).toBe(`Cannot prepare PostgreSQL at postgres://${ADDRESS_NOT_SHOWN}: ${CLIENT_ERROR_HIDDEN} (ECONNREFUSED): ${URL_ADVICE}`);
    expect(inspect(e, { depth: 8 })).not.toContain(String(refusedPort));
  });

  it('a URL whose address is shown keeps the client error (where it connected, why it failed)', { timeout: 60_000 }, async () => {
    const redis = await errorOf(connectRedis(`redis://default:S3CRET@127.0.0.1:${refusedPort}/0?client_name=svc%40prod`, 'p:'));
    expect(redis.message).toMatch(new RegExp(`^Cannot connect to Redis at redis://127\\.0\\.0\\.1:${refusedPort}/0: .*ECONNREFUSED`));
    const pg = await errorOf(openPostgres(`postgres://app:S3CRET@127.0.0.1:${refusedPort}/app?application_name=svc%40prod`));
    expect(pg.message).toMatch(new RegExp(`^Cannot prepare PostgreSQL at postgres://127\\.0\\.0\\.1:${refusedPort}/app: .*ECONNREFUSED`));
    expect(inspect([redis, pg], { depth: 8 })).not.toContain('S3CRET');
  });
});

// A URL whose query holds a raw "@": it may be the rest of a password with an unescaped "?" (that "@" ends it), and what
// the client reads from that query, or the host and port before it, may be pieces of the password.
describe('a store URL whose query may be a password\'s rest: the client error names no piece of it', () => {
  // Password "p@ss?host=127.0.0.1&port=<port>&application_name=x" (user "u", host "db"): pg reads user "u", password
  // "p", and connects to the query's host and port.
  it('PostgreSQL with ?host= / ?port= and an "@" in a name, with user info read', { timeout: 60_000 }, async () => {
    const e = await errorOf(openPostgres(`postgres://u:p@ss?host=127.0.0.1&port=${refusedPort}&application_name=x@db/app`));
    expect(e.message).toBe(`Cannot prepare PostgreSQL at postgres://${ADDRESS_NOT_SHOWN}: ${CLIENT_ERROR_HIDDEN} (ECONNREFUSED): ${URL_ADVICE}`);
    expect(inspect(e, { depth: 8 })).not.toContain(String(refusedPort));
  });

  // Password "<port>?host=127.0.0.1&application_name=x" (user "u"): no user info read; host "u", port <port>, and pg's
  // host the query's.
  it('PostgreSQL with ?host= and an "@" in a name, no user info read', { timeout: 60_000 }, async () => {
    const e = await errorOf(openPostgres(`postgres://u:${refusedPort}?host=127.0.0.1&application_name=x@db/app`));
    expect(e.message).toBe(`Cannot prepare PostgreSQL at postgres://${ADDRESS_NOT_SHOWN}: ${CLIENT_ERROR_HIDDEN} (ECONNREFUSED): ${URL_ADVICE}`);
    expect(inspect(e, { depth: 8 })).not.toContain(String(refusedPort));
  });

  // User "127.0.0.1", password "<port>?client_name=S3CRET" (no user info read): host "127.0.0.1", port <port>.
  it('Redis, no user info read and an "@" in a name', { timeout: 60_000 }, async () => {
    const e = await errorOf(connectRedis(`redis://127.0.0.1:${refusedPort}?client_name=S3CRET@cache.invalid`, 'p:'));
    expect(e.message).toBe(`Cannot connect to Redis at redis://${ADDRESS_NOT_SHOWN}: ${CLIENT_ERROR_HIDDEN} (ECONNREFUSED): ${URL_ADVICE}`);
    expect(inspect(e, { depth: 8 })).not.toContain(String(refusedPort));
  });

  // User "default", password "Q7@127.0.0.1:<port>?client_name=EF" (an "@" before its "?"): read as user info
  // "default:Q7", host "127.0.0.1", port <port>, and the client's error names them.
  it('Redis, user info read before an "@" in the password, a name after its "?"', { timeout: 60_000 }, async () => {
    const e = await errorOf(connectRedis(`redis://default:Q7@127.0.0.1:${refusedPort}?client_name=EF@cache.invalid`, 'p:'));
    expect(e.message).toBe(`Cannot connect to Redis at redis://${ADDRESS_NOT_SHOWN}: ${CLIENT_ERROR_HIDDEN} (ECONNREFUSED): ${URL_ADVICE}`);
    expect(inspect(e, { depth: 8 })).not.toContain(String(refusedPort));
  });

  // User "app", password "Q7@127.0.0.1:<port>/SECRETDB?application_name=EF": pg reads host, port and database from it.
  it('PostgreSQL, user info read before an "@" in the password, a name after its "?"', { timeout: 60_000 }, async () => {
    const e = await errorOf(openPostgres(`postgres://app:Q7@127.0.0.1:${refusedPort}/SECRETDB?application_name=EF@db.invalid/app`));
    expect(e.message).toBe(`Cannot prepare PostgreSQL at postgres://${ADDRESS_NOT_SHOWN}: ${CLIENT_ERROR_HIDDEN} (ECONNREFUSED): ${URL_ADVICE}`);
    expect(inspect(e, { depth: 8 })).not.toMatch(new RegExp(`${refusedPort}|SECRETDB`));
  });
});

describe('a store URL whose address is not shown: what failed is still told', () => {
  // node-redis 6's reply error (SimpleError: name "Error", no code); Redis's own word for it is the reply's first.
  it.skipIf(!redisUrl)('Redis: an authentication refused at the first connect shows the reply\'s kind (WRONGPASS)', { timeout: 60_000 }, async () => {
    const at = new URL(redisUrl!);
    const e = await errorOf(connectRedis(`redis://nobody:S3CRET@${at.host}/0?k=S3CRET@cache.invalid`, 'p:'));
    expect(e.code).toBe('engine_unavailable');
    expect(e.message).toBe(`Cannot connect to Redis at redis://${ADDRESS_NOT_SHOWN}: ${CLIENT_ERROR_HIDDEN} (WRONGPASS): ${URL_ADVICE}`);
    expect(inspect(e, { depth: 8 })).not.toContain('S3CRET');
  });

  // pg's own fixed texts name nothing of the URL: shown at the first connect as after it.
  it.skipIf(!postgresUrl)('PostgreSQL: ?sslmode=require against a server without SSL shows pg\'s text', { timeout: 60_000 }, async () => {
    const via = new URL(postgresUrl!);
    via.search = '?sslmode=require&k=S3CRET@db.invalid';
    const e = await errorOf(openPostgres(via.href));
    expect(e.message).toBe(`Cannot prepare PostgreSQL at postgres://${ADDRESS_NOT_SHOWN}: The server does not support SSL connections`);
    expect(inspect(e, { depth: 8 })).not.toContain('S3CRET');
  });

  it('PostgreSQL: a server that never answers shows pg\'s connection timeout', { timeout: 60_000 }, async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((s) => void sockets.add(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { port } = silent.address() as { port: number };
    try {
      const e = await errorOf(openPostgres(`postgres://u:pw@127.0.0.1:${port}/app?k=S3CRET@db.invalid`));
      expect(e.message).toMatch(new RegExp(`^Cannot prepare PostgreSQL at postgres://\\${ADDRESS_NOT_SHOWN.slice(0, -1)}\\): (Connection terminated due to connection timeout|timeout exceeded when trying to connect)$`));
      expect(inspect(e, { depth: 8 })).not.toContain(String(port));
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });
});
