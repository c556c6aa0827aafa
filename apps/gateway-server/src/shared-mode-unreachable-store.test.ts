/**
 * A gateway server process in shared mode whose Redis or PostgreSQL cannot be reached at startup: it exits, and what
 * it prints names the store by its URL without the credentials the URL carries (user info, and a password in the
 * query string, which pg reads as libpq does). A dead loopback port for the unreachable store, the test's real Redis
 * (vitest.global-setup.ts) in front of an unreachable PostgreSQL.
 */
import { rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { gatewaySetup, sharedServices, startGateway, stopGateway } from './test-support/gateway-processes.js';

const ADMIN = 'shared-mode-unreachable-admin-key-0';
const { redisUrl } = sharedServices('shared mode: unreachable PostgreSQL');
const CONFIG = { version: 2, models: [{ name: 'mock', engine: 'mock' }] };

/** What the process printed before it exited (it must not start). */
async function startupOutput(urls: { LLMRR_REDIS_URL: string; LLMRR_POSTGRES_URL: string }): Promise<string> {
  const { dir, env } = gatewaySetup(CONFIG, 'shared', ADMIN, 'llmrr-unreachable-');
  try {
    const started = await startGateway('U', { ...env, ...urls }).then(
      (g) => g,
      (e: unknown) => (e as Error).message,
    );
    if (typeof started !== 'string') {
      await stopGateway(started);
      throw new Error('expected the gateway not to start');
    }
    return started;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('shared mode: a store that cannot be reached at startup', () => {
  it('names Redis without the credentials of LLMRR_REDIS_URL (user info, query string)', async () => {
    const out = await startupOutput({ LLMRR_REDIS_URL: 'redis://u:USERINFO-PW@127.0.0.1:1/0?password=QUERY-PW', LLMRR_POSTGRES_URL: 'postgres://127.0.0.1:1/db' });
    expect(out).toContain('llmrr gateway failed to start: LLMRR_REDIS_URL (Redis at 127.0.0.1:1): Cannot connect to Redis at redis://127.0.0.1:1/0:');
    // What failed, not only that the client gave up.
    expect(out).toContain('ECONNREFUSED');
    expect(out).not.toMatch(/-PW/);
  });

  it('names Redis without any part of a password with an unescaped "/" (which a URL parser reads as host and port)', async () => {
    // Redis's ACL user "default" with a generated password "4821/SECRET": read as host "default", port 4821.
    const out = await startupOutput({ LLMRR_REDIS_URL: 'redis://default:4821/SECRET@127.0.0.1:1', LLMRR_POSTGRES_URL: 'postgres://127.0.0.1:1/db' });
    expect(out).toContain('llmrr gateway failed to start: LLMRR_REDIS_URL (Redis at redis://127.0.0.1:1)');
    expect(out).not.toMatch(/4821|default:|SECRET/);
  });

  it.skipIf(!redisUrl)('names PostgreSQL without the password of LLMRR_POSTGRES_URL, in its query string too', async () => {
    const out = await startupOutput({ LLMRR_REDIS_URL: redisUrl!, LLMRR_POSTGRES_URL: 'postgres://u:USERINFO-PW@127.0.0.1:1/db?password=QUERY-PW&sslmode=disable' });
    expect(out).toContain('llmrr gateway failed to start: LLMRR_POSTGRES_URL (PostgreSQL at 127.0.0.1:1): Cannot prepare PostgreSQL at postgres://127.0.0.1:1/db:');
    expect(out).not.toMatch(/-PW/);
  });

  // pg reads the query's host and port over the URL's own (as libpq does): the address named is where it connected.
  it.skipIf(!redisUrl)('names the host and port PostgreSQL was tried at when LLMRR_POSTGRES_URL sets ?host= and ?port=', async () => {
    const out = await startupOutput({ LLMRR_REDIS_URL: redisUrl!, LLMRR_POSTGRES_URL: 'postgres://u:USERINFO-PW@db.invalid:5432/db?host=127.0.0.1&port=1' });
    expect(out).toContain('llmrr gateway failed to start: LLMRR_POSTGRES_URL (PostgreSQL at 127.0.0.1:1): Cannot prepare PostgreSQL at postgres://127.0.0.1:1/db:');
    expect(out).toContain('ECONNREFUSED 127.0.0.1:1');
    expect(out).not.toMatch(/-PW/);
  });

  // A password with an unescaped "?" whose rest sets ?host= before an "@" in a name's value: pg connects to that host
  // (a piece of the password), and its error names it; the URL's host and port may be pieces too.
  it.skipIf(!redisUrl)('names no piece of a password whose rest sets ?host= (an "@" in a name after it), with or without user info read', async () => {
    for (const url of ['postgres://u:1?host=PIECE-S3CRET&application_name=x@db/app', 'postgres://u:p@ss?host=PIECE-S3CRET&application_name=x@db/app']) {
      const out = await startupOutput({ LLMRR_REDIS_URL: redisUrl!, LLMRR_POSTGRES_URL: url });
      expect(out, url).toContain(
        "llmrr gateway failed to start: LLMRR_POSTGRES_URL (PostgreSQL at postgres://(address not shown)): Cannot prepare PostgreSQL at postgres://(address not shown): the client's error is not shown, as it may name a part of the password (ENOTFOUND)",
      );
      expect(out, url).not.toMatch(/PIECE|S3CRET|u:1|ss:/);
    }
  });

  // Something listens at the address but never answers (a firewall's tarpit, another service waiting for its own
  // protocol, a host gone quiet): the first connection is bounded, the start fails naming the variable and the place.
  it('a Redis address where something listens but never answers: the start fails (bounded), naming LLMRR_REDIS_URL and host:port', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const out = await startupOutput({ LLMRR_REDIS_URL: `redis://:SECRET-PW@127.0.0.1:${port}`, LLMRR_POSTGRES_URL: 'postgres://127.0.0.1:1/db' });
      expect(out).toContain(`llmrr gateway failed to start: LLMRR_REDIS_URL (Redis at 127.0.0.1:${port}): Cannot connect to Redis at redis://127.0.0.1:${port}:`);
      // The TCP connection was made: it is the handshake that got no answer.
      expect(out).toMatch(/timed out after \d+ ms: a TCP connection was made, but no answer to the handshake came/);
      expect(out).not.toMatch(/-PW/);
    } finally {
      silent.close();
    }
  }, 120_000);

  it.skipIf(!redisUrl)('a PostgreSQL address where something listens but never answers: the start fails (bounded), naming LLMRR_POSTGRES_URL and host:port', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const out = await startupOutput({ LLMRR_REDIS_URL: redisUrl!, LLMRR_POSTGRES_URL: `postgres://u:SECRET-PW@127.0.0.1:${port}/db` });
      expect(out).toContain(`llmrr gateway failed to start: LLMRR_POSTGRES_URL (PostgreSQL at 127.0.0.1:${port}): Cannot prepare PostgreSQL at postgres://127.0.0.1:${port}/db:`);
      expect(out).not.toMatch(/-PW/);
    } finally {
      silent.close();
    }
  }, 120_000);
});
