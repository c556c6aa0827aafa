import type { TenantEvents, TenantEventsSubscription } from '../types.js';
import { bounded, type RedisHandle } from './redis-connection.js';

/**
 * Shared mode's `TenantEvents`: a deletion is one PUBLISH on `<prefix>tenant-deleted` (the tenant id as the
 * message), heard by every process on the handle's subscribed connection. Best effort, as Redis pub/sub is: a
 * process whose subscribed connection is down while a deletion is published misses it (its memory of the tenant
 * goes with the least recently used, and a tenant created again under the id is told apart by its `createdAt`).
 */
export class RedisTenantEvents implements TenantEvents {
  readonly #redis: RedisHandle;
  readonly #channel: string;
  readonly #timeoutMs: number;

  constructor(redis: RedisHandle, options: { channel: string; timeoutMs: number }) {
    this.#redis = redis.retain();
    this.#channel = options.channel;
    this.#timeoutMs = options.timeoutMs;
  }

  async deleted(tenantId: string): Promise<void> {
    await bounded(this.#redis.command(['PUBLISH', this.#channel, tenantId]), this.#timeoutMs, 'tenant deletion notice');
  }

  async onDeleted(listener: (tenantId: string) => void): Promise<TenantEventsSubscription> {
    const sub = await this.#redis.subscribe(
      this.#channel,
      (message) => {
        if (message !== '') listener(message);
      },
      () => {},
    );
    return { caughtUp: () => sub.caughtUp(), close: () => sub.close() };
  }

  close(): Promise<void> {
    return this.#redis.release();
  }
}
