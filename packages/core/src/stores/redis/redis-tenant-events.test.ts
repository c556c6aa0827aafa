/**
 * `RedisTenantEvents` against a real Redis (vitest.global-setup.ts): a notice heard drops the stores' cached
 * lookups of the tenant (`invalidate(id)`) before the listener hears it, and listening again after the subscribed
 * connection dropped says deletions may have been missed (`onMissed`, after `invalidate()` of every tenant).
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { testServiceUrls } from '../__fixtures__/store-fixtures.js';
import { connectRedis, type RedisHandle } from './redis-connection.js';
import { RedisTenantEvents } from './redis-tenant-events.js';

const { redisUrl } = testServiceUrls();
const skip = redisUrl ? undefined : 'Redis not available';

describe.skipIf(skip !== undefined)('RedisTenantEvents', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function handle(url = redisUrl!): Promise<RedisHandle> {
    const h = (await connectRedis(url, '')).retain();
    cleanup.push(() => h.release());
    return h;
  }

  it("drops the tenant's cached lookups before the listener hears its deletion; after a dropped connection, says deletions may have been missed", async () => {
    const admin = await handle();
    // Its own Redis user, so that CLIENT KILL reaches only this subscriber's connection.
    const user = `t${randomBytes(6).toString('hex')}`;
    await admin.command(['ACL', 'SETUSER', user, 'on', '>pw', '~*', '&*', '+@all']);
    cleanup.push(() => admin.command(['ACL', 'DELUSER', user]));
    const url = new URL(redisUrl!);
    url.username = user;
    url.password = 'pw';
    const channel = `t${randomBytes(6).toString('hex')}:tenant-deleted`;

    const seen: string[] = [];
    const events = new RedisTenantEvents(await handle(url.toString()), { channel, timeoutMs: 2_000, invalidate: (id) => seen.push(`invalidate ${id ?? '*'}`) });
    cleanup.push(() => events.close());
    const teller = new RedisTenantEvents(admin, { channel, timeoutMs: 2_000 });
    cleanup.push(() => teller.close());
    const sub = await events.onDeleted(
      (id) => seen.push(`deleted ${id}`),
      () => seen.push('missed'),
    );
    cleanup.push(async () => sub.close());

    await teller.deleted('acme');
    await vi.waitFor(() => expect(seen).toEqual(['invalidate acme', 'deleted acme']), { timeout: 10_000 });

    expect(await admin.command(['CLIENT', 'KILL', 'USER', user, 'TYPE', 'pubsub'])).toBe(1);
    // node-redis reconnects and subscribes again by itself; then the listener is told it may have missed some.
    await vi.waitFor(() => expect(seen.slice(2)).toEqual(['invalidate *', 'missed']), { timeout: 10_000, interval: 20 });
    await teller.deleted('globex');
    await vi.waitFor(() => expect(seen.slice(4)).toEqual(['invalidate globex', 'deleted globex']), { timeout: 10_000 });
  });
});
