import { createServer } from 'node:net';
import { inspect } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { LLMError } from '../errors/llm-error.js';
import { ADDRESS_NOT_SHOWN, CLIENT_ERROR_HIDDEN } from '../util/redact-url.js';
import { openPostgres } from './postgres/postgres-database.js';
import { connectRedis } from './redis/redis-connection.js';

const URL_ADVICE = "give a URL whose user info has '/', '?', '#' and '@' percent-encoded (%2F, %3F, %23, %40)";

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
    const redis = await errorOf(connectRedis(`redis://default:S3CRET@127.0.0.1:${refusedPort}/0?client_name=svc@prod`, 'p:'));
    expect(redis.message).toMatch(new RegExp(`^Cannot connect to Redis at redis://127\\.0\\.0\\.1:${refusedPort}/0: .*ECONNREFUSED`));
    const pg = await errorOf(openPostgres(`postgres://app:S3CRET@127.0.0.1:${refusedPort}/app?application_name=svc@prod`));
    expect(pg.message).toMatch(new RegExp(`^Cannot prepare PostgreSQL at postgres://127\\.0\\.0\\.1:${refusedPort}/app: .*ECONNREFUSED`));
    expect(inspect([redis, pg], { depth: 8 })).not.toContain('S3CRET');
  });
});
