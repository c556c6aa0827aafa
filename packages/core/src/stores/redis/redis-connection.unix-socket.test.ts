/**
 * `connectRedis` over a unix socket, the form the gateway server's `LLMRR_REDIS_URL` takes
 * (`unix://[user[:password]@]/path/redis.sock[?db=N]`): with a password too. node-redis (RESP3 by default) runs a
 * maintenance-notifications handshake that reads the host with `new URL(url)`, which refuses a unix URL with user
 * info: every connection through such a URL failed at start ("Invalid URL"). A redis-server of its own, on a socket
 * with `requirepass`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSocketRedis, type SocketRedis } from '../__fixtures__/socket-redis.js';
import { connectRedis } from './redis-connection.js';

const PASSWORD = 'unix-socket-pw-0123';
let redis: SocketRedis | undefined;
let sock: string;

beforeAll(async () => {
  redis = await startSocketRedis('unix', ['--requirepass', PASSWORD]);
  sock = redis.sock;
});
afterAll(async () => {
  await redis?.stop();
});

describe('connectRedis over a password-protected unix socket', () => {
  for (const form of ['default:PW@', ':PW@']) {
    it(`unix://${form}/path?db=2 connects to database 2; its subscribed connection too`, async () => {
      const handle = (await connectRedis(`unix://${form.replace('PW', PASSWORD)}${sock}?db=2`, 'unix:')).retain();
      try {
        expect(await handle.command(['CLIENT', 'INFO'])).toMatch(/ db=2 /);
        // The second (subscribed) connection is a duplicate of the first: same URL, same options.
        const heard: string[] = [];
        const channel = `unix-test-${form.length}`;
        const sub = await handle.subscribe(channel, (m) => void heard.push(m), () => {});
        await handle.command(['PUBLISH', channel, 'hello']);
        await sub.caughtUp();
        expect(heard).toEqual(['hello']);
        sub.close();
      } finally {
        await handle.release();
      }
    }, 20_000);
  }

  it('a wrong password is the connect error naming the socket, without the password', async () => {
    const err = await connectRedis(`unix://default:wrong-pw@${sock}`, 'unix:').then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/^Cannot connect to Redis at unix:\/\/.*redis\.sock/);
    expect(err?.message).not.toMatch(/Invalid URL/);
    expect(err?.message).not.toContain('wrong-pw');
  }, 20_000);
});
