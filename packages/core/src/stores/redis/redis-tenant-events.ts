import type { TenantEvents, TenantEventsSubscription } from '../types.js';
import { bounded, type RedisHandle } from './redis-connection.js';

/**
 * Shared mode's `TenantEvents`: a deletion is one PUBLISH on `<prefix>tenant-deleted` (the tenant id as the
 * message), heard by every process on the handle's subscribed connection. Best effort, as Redis pub/sub is: a
 * process whose subscribed connection is down while a deletion is published misses it; when the connection is back
 * (node-redis subscribes again by itself) `onMissed` says so, for the listener to check what it keeps against the
 * tenant store. A tenant created again under the id is told apart by its `createdAt` in any case.
 */
export class RedisTenantEvents implements TenantEvents {
  readonly #redis: RedisHandle;
  readonly #channel: string;
  readonly #timeoutMs: number;
  readonly #invalidate: ((tenantId?: string) => void) | undefined;

  /**
   * `invalidate(id)` drops what the stores cache of a tenant heard deleted (the tenant store's key lookups), before
   * a listener hears it; `invalidate()`, of every tenant, before `onMissed`.
   */
  constructor(redis: RedisHandle, options: { channel: string; timeoutMs: number; invalidate?: (tenantId?: string) => void }) {
    this.#redis = redis.retain();
    this.#channel = options.channel;
    this.#timeoutMs = options.timeoutMs;
    this.#invalidate = options.invalidate;
  }

  async deleted(tenantId: string): Promise<void> {
    await bounded(this.#redis.command(['PUBLISH', this.#channel, tenantId]), this.#timeoutMs, 'tenant deletion notice');
  }

  async onDeleted(listener: (tenantId: string) => void, onMissed?: () => void): Promise<TenantEventsSubscription> {
    // Set when the subscribed connection dropped: notices published until it listens again are lost.
    let interrupted = false;
    const sub = await this.#redis.subscribe(
      this.#channel,
      (message) => {
        if (message === '') return;
        this.#invalidate?.(message);
        listener(message);
      },
      (listening) => {
        if (!listening) {
          interrupted = true;
          return;
        }
        if (!interrupted) return;
        interrupted = false;
        this.#invalidate?.();
        onMissed?.();
      },
    );
    return { caughtUp: () => sub.caughtUp(), close: () => sub.close() };
  }

  close(): Promise<void> {
    return this.#redis.release();
  }
}
