import { createHash } from 'node:crypto';
import { LLMError } from '../../errors/llm-error.js';
import { importOptional } from '../../util/optional-import.js';
import { MAX_TIMER_MS } from '../../util/timer-delay.js';

/** The few client methods used here (node-redis `redis` v6). */
interface RedisCommandClient {
  connect(): Promise<unknown>;
  sendCommand<T = unknown>(args: ReadonlyArray<string>): Promise<T>;
  close(): Promise<void>;
  destroy(): void;
  on(event: 'error' | 'end' | 'reconnecting' | 'ready', listener: (e: unknown) => void): unknown;
  /** A new client with the same options, not yet connected (absent on test doubles). */
  duplicate?(): RedisCommandClient;
  subscribe?(channel: string, listener: (message: string) => void): Promise<void>;
  unsubscribe?(channel: string, listener: (message: string) => void): Promise<void>;
}

/** A channel heard on a handle's second connection (see `RedisHandle.subscribe`). */
export interface RedisSubscription {
  /**
   * Resolves once every message Redis published before it got this request has been handed to `onMessage`
   * (one PING on the subscribed connection, which Redis answers after the messages it queued there).
   */
  caughtUp(): Promise<void>;
  /** Stops hearing the channel (the connection closes with the handle). */
  close(): void;
}

interface RedisModule {
  createClient(options: { url: string; disableOfflineQueue?: boolean; socket?: { connectTimeout?: number; reconnectStrategy?: (retries: number) => number | Error } }): RedisCommandClient;
}

/** A Lua script with its SHA1, run with EVALSHA (falling back to EVAL once after a SCRIPT FLUSH or restart). */
export class LuaScript {
  readonly sha: string;
  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }
}

/**
 * How long the last `release()` lets the commands in flight finish before it drops the connection (ms), when no
 * holder named its own bound (see `retain`).
 */
export const CLOSE_GRACE_MS = 2_000;

/** One Redis connection shared by the shared-mode stores; closes with the last `release()`. */
export class RedisHandle {
  private refs = 0;
  private closed = false;
  /** The largest bound on a command the holders gave `retain` (0: none given). */
  private graceMs = 0;
  /** The second connection, for subscriptions (a subscribed connection runs no other command); opened with the first. */
  private subscriber?: { client: RedisCommandClient; connected: Promise<unknown>; listening: Set<(listening: boolean) => void> };
  lastError: unknown;

  constructor(
    private readonly client: RedisCommandClient,
    readonly prefix: string,
  ) {
    client.on('error', (e) => {
      this.lastError = e;
    });
  }

  /**
   * Takes a reference. `boundMs`: the longest this holder waits for a command (its `timeoutMs`); the last
   * `release()` gives the commands in flight the largest bound any holder named.
   */
  retain(boundMs?: number): this {
    this.refs += 1;
    if (boundMs !== undefined && boundMs > this.graceMs) this.graceMs = boundMs;
    return this;
  }

  /**
   * Lets go of one reference; the last one closes the connection, waiting for the commands in flight at most the
   * largest bound a holder gave `retain` (`CLOSE_GRACE_MS` when none did): past it (a stalled Redis never answers
   * them; their holders gave up on them by then) or on a close error the socket is destroyed and those commands
   * fail, so shutdown never hangs on Redis.
   */
  async release(): Promise<void> {
    this.refs -= 1;
    if (this.refs > 0 || this.closed) return;
    this.closed = true;
    // Nothing on the subscribed connection is worth waiting for. Before its socket exists destroy() does nothing
    // and the connect goes on: destroyed again once it settles (`subscribe` sees the handle closed).
    const sub = this.subscriber;
    if (sub) {
      sub.client.destroy();
      void sub.connected.then(() => sub.client.destroy(), () => {});
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), this.graceMs || CLOSE_GRACE_MS);
    });
    const closed = await Promise.race([this.client.close().then(() => true, () => false), grace]);
    clearTimeout(timer);
    if (!closed) this.client.destroy();
  }

  /**
   * Hears `channel` on the handle's second connection, opened by the first subscription and closed with the
   * handle: `onMessage` gets each message; `onListening(false)` says messages may be missed from then on (the
   * connection dropped: it reconnects and subscribes again by itself), `onListening(true)` that they are heard
   * (again). Resolves once subscribed; rejects when it cannot subscribe (no `onListening` call then).
   */
  async subscribe(channel: string, onMessage: (message: string) => void, onListening: (listening: boolean) => void): Promise<RedisSubscription> {
    if (this.closed) throw new LLMError({ code: 'engine_unavailable', message: 'The Redis connection is closed' });
    if (!this.subscriber) {
      const dup = this.client.duplicate?.();
      if (!dup?.subscribe) throw new LLMError({ code: 'unsupported', message: 'This Redis client cannot open a subscribed connection' });
      const listening = new Set<(listening: boolean) => void>();
      const tell = (up: boolean) => {
        for (const l of listening) l(up);
      };
      dup.on('error', () => tell(false));
      dup.on('end', () => tell(false));
      dup.on('reconnecting', () => tell(false));
      // After a reconnection, once node-redis has subscribed again to every channel.
      dup.on('ready', () => tell(true));
      this.subscriber = { client: dup, connected: dup.connect(), listening };
    }
    const { client, connected, listening } = this.subscriber;
    await connected;
    if (this.closed) {
      // Released while connecting (release() destroys it too, once the connect settles).
      client.destroy();
      throw new LLMError({ code: 'engine_unavailable', message: 'The Redis connection is closed' });
    }
    await client.subscribe!(channel, onMessage);
    listening.add(onListening);
    onListening(true);
    return {
      caughtUp: () => client.sendCommand(['PING']).then(() => undefined),
      close: () => {
        listening.delete(onListening);
        void client.unsubscribe?.(channel, onMessage).catch(() => {});
      },
    };
  }

  command<T = unknown>(args: ReadonlyArray<string>): Promise<T> {
    return this.client.sendCommand<T>(args);
  }

  async eval<T = unknown>(script: LuaScript, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<T> {
    const tail = [String(keys.length), ...keys, ...args.map(String)];
    try {
      return await this.client.sendCommand<T>(['EVALSHA', script.sha, ...tail]);
    } catch (e) {
      if (!String((e as Error)?.message ?? e).startsWith('NOSCRIPT')) throw e;
      return this.client.sendCommand<T>(['EVAL', script.source, ...tail]);
    }
  }
}

/** Default bound on each rate-limit and budget call to Redis (`redisTimeoutMs`). */
export const DEFAULT_REDIS_TIMEOUT_MS = 2_000;

/** Checks a `redisTimeoutMs` option: a positive integer (ms). */
export function redisTimeout(value: number | undefined, param = 'redisTimeoutMs'): number {
  const ms = value ?? DEFAULT_REDIS_TIMEOUT_MS;
  if (!isTimerBound(ms)) {
    throw new LLMError({ code: 'invalid_request', message: `${param} must be a positive integer (ms) of at most ${MAX_TIMER_MS}, got ${String(ms)}`, param });
  }
  return ms;
}

/**
 * Checks a Redis store's `timeoutMs` option (`fallback` when absent): a positive integer (ms) of at most
 * MAX_TIMER_MS, else `config_invalid` naming the store (`what`).
 */
export function storeTimeoutMs(value: number | undefined, fallback: number, what: string): number {
  const ms = value ?? fallback;
  if (!isTimerBound(ms)) {
    throw new LLMError({ code: 'config_invalid', message: `${what}: timeoutMs must be a positive integer (ms) of at most ${MAX_TIMER_MS}, got ${String(ms)}`, param: 'timeoutMs' });
  }
  return ms;
}

/** A positive integer a timer waits for: at most 2^31 - 1 ms (about 24.8 days), as a longer one fires after 1 ms. */
function isTimerBound(ms: number): boolean {
  return Number.isInteger(ms) && ms >= 1 && ms <= MAX_TIMER_MS;
}

/**
 * `work`, or a `store_unavailable` error (503, retryable) once `timeoutMs` passed without its answer: a Redis
 * that stops answering without closing the connection (a partition, a stalled primary) fails the call instead of
 * holding it until TCP keepalive gives up (minutes). The command itself cannot be taken back: when its answer
 * comes after all, `late` gets it (to undo what it took), and a late failure is dropped. A failure of the
 * client itself (the connection is down and reconnecting, so the command is refused at once) is
 * `store_unavailable` too; an `LLMError` passes unchanged.
 */
export function bounded<T>(work: Promise<T>, timeoutMs: number, what: string, late?: (value: T) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let over = false;
    const timer = setTimeout(() => {
      over = true;
      reject(new LLMError({ code: 'store_unavailable', message: `Redis did not answer the ${what} within ${timeoutMs} ms` }));
    }, timeoutMs);
    work.then(
      (value) => {
        if (!over) {
          clearTimeout(timer);
          resolve(value);
        } else late?.(value);
      },
      (e: unknown) => {
        if (over) return;
        clearTimeout(timer);
        reject(LLMError.isInstance(e) ? e : new LLMError({ code: 'store_unavailable', message: `Redis failed the ${what}: ${(e as Error)?.message ?? String(e)}`, cause: e }));
      },
    );
  });
}

/** Connects, failing fast with a clear error when Redis is unreachable. */
export async function connectRedis(url: string, prefix: string, what = 'Redis state store (shared mode)'): Promise<RedisHandle> {
  const mod = await importOptional<RedisModule>('redis', { engine: what, install: 'redis@6' });
  let connected = false;
  const client = mod.createClient({
    url,
    // While reconnecting, fail commands at once instead of queueing them: a request should get an
    // error it can report, not hang until Redis is back.
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 5_000,
      // Reconnect forever once connected; give up on the very first connect after a few tries.
      reconnectStrategy: (retries) => (connected || retries < 3 ? Math.min(50 * 2 ** retries, 2_000) : new Error('gave up')),
    },
  });
  const handle = new RedisHandle(client, prefix);
  try {
    await client.connect();
    connected = true;
  } catch (e) {
    client.destroy();
    throw new LLMError({ code: 'engine_unavailable', message: `Cannot connect to Redis at ${redactUrl(url)}: ${(e as Error)?.message ?? e}`, cause: e });
  }
  return handle;
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(invalid URL)';
  }
}
