import { createHash } from 'node:crypto';
import { LLMError } from '../../errors/llm-error.js';
import { importOptional } from '../../util/optional-import.js';
import { clientErrorNotShown, hideClientError, isAddressSure, redactUrl } from '../../util/redact-url.js';
import { MAX_TIMER_MS } from '../../util/timer-delay.js';

/** The few client methods used here (node-redis `redis` v6). */
interface RedisCommandClient {
  connect(): Promise<unknown>;
  sendCommand<T = unknown>(args: ReadonlyArray<string>): Promise<T>;
  close(): Promise<void>;
  destroy(): void;
  on(event: 'error' | 'terminated' | 'reconnecting' | 'ready' | 'connect', listener: (e: unknown) => void): unknown;
  /** A new client with the same options, not yet connected (absent on test doubles). */
  duplicate?(): RedisCommandClient;
  subscribe?(channel: string, listener: (message: string) => void): Promise<void>;
  unsubscribe?(channel: string, listener: (message: string) => void): Promise<void>;
}

/** A channel heard on a handle's second connection (see `RedisHandle.subscribe`). */
export interface RedisSubscription {
  /**
   * Resolves once every message Redis published before it got this request has been handed to `onMessage`
   * (one PING on the subscribed connection, which Redis answers after the messages it queued there). Rejects with
   * Redis's error reply when Redis refuses the PING (e.g. an ACL without PING): that is an answer too, after the
   * same messages (`isErrorReply` tells it from a connection failure).
   */
  caughtUp(): Promise<void>;
  /**
   * The subscribed connection does not deliver (a PING unanswered for long, or failed with its connection while it
   * was up): the handle drops it and subscribes every channel again on a new one, with a bounded backoff (see
   * `RedisHandle.subscribe`).
   */
  renew(): void;
  /** Stops hearing the channel (the connection closes with the handle). */
  close(): void;
}

/** How long one try to open a new subscribed connection and subscribe its channels may take (ms). */
const RENEW_TRY_MS = 5_000;
/** The first wait between two renewals of the subscribed connection with no PING answered between them (ms). */
const RENEW_BACKOFF_MS = 250;
/** The longest such wait (ms). */
const RENEW_BACKOFF_MAX_MS = 30_000;

/** The handle's second connection, for subscriptions. */
interface Subscriber {
  /** The connection now (a new one after a renewal). */
  client: RedisCommandClient;
  /** Settles once `client` is connected (after a renewal: and has subscribed every channel again). */
  connected: Promise<unknown>;
  listening: Set<(listening: boolean) => void>;
  /** Every channel subscribed, with its message listeners: subscribed again on a renewed connection. */
  channels: Map<string, Set<(message: string) => void>>;
  /** A renewal is under way: the connection's own events tell nothing. */
  renewing: boolean;
  /** Renewals since a PING on the subscribed connection was last answered (the backoff grows with them). */
  renewals: number;
}

interface RedisModule {
  createClient(options: {
    url: string;
    disableOfflineQueue?: boolean;
    maintNotifications?: 'disabled' | 'enabled' | 'auto';
    socket?: { connectTimeout?: number; reconnectStrategy?: (retries: number, cause: Error) => number | Error };
  }): RedisCommandClient;
  /** node-redis's class of error replies (5 and 6), recorded for `isErrorReply`. */
  ErrorReply?: unknown;
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
  private subscriber?: Subscriber;
  /**
   * The client's last connection error (its `'error'` event: `connect ECONNREFUSED <host>:<port>` while it reconnects,
   * or a reply refusing its handshake, `WRONGPASS ...`); for a URL whose address is not sure (`hideClientErrors`) as
   * `hideClientError` shows it (its kind only: a reply's is its first word, see `replyKind`), as it may name a piece
   * of the password as host, port or user. (The errors of commands are node-redis's fixed texts, "The client is
   * offline", or Redis's replies, which name nothing of the URL.)
   */
  lastError: unknown;

  constructor(
    private readonly client: RedisCommandClient,
    readonly prefix: string,
    /** The URL's address is not sure (`isAddressSure` false): see `lastError`. */
    private readonly hideClientErrors = false,
  ) {
    client.on('error', (e) => {
      this.lastError = this.hideClientErrors ? hideClientError(e, replyKind(e)) : e;
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
   * A connection that does not deliver while it looks up (a stalled peer that keeps it open: the holder's PING goes
   * unanswered) is dropped by `renew()`, as is one the client gave up reconnecting (node-redis `'terminated'`, when
   * its reconnect strategy gives up): every channel is subscribed again on a new
   * connection, each try bounded by RENEW_TRY_MS, the next try after a backoff (from RENEW_BACKOFF_MS, doubling
   * with each renewal since a PING was last answered, up to RENEW_BACKOFF_MAX_MS), until it listens or the handle
   * closes.
   */
  async subscribe(channel: string, onMessage: (message: string) => void, onListening: (listening: boolean) => void): Promise<RedisSubscription> {
    if (this.closed) throw new LLMError({ code: 'shutting_down', message: 'The Redis connection is closed' });
    if (!this.subscriber) {
      const dup = this.client.duplicate?.();
      if (!dup?.subscribe) throw new LLMError({ code: 'unsupported', message: 'This Redis client cannot open a subscribed connection' });
      const sub: Subscriber = { client: dup, connected: Promise.resolve(), listening: new Set(), channels: new Map(), renewing: false, renewals: 0 };
      this.watch(sub, dup);
      sub.connected = dup.connect();
      this.subscriber = sub;
    }
    const sub = this.subscriber;
    let listeners = sub.channels.get(channel);
    if (!listeners) sub.channels.set(channel, (listeners = new Set()));
    listeners.add(onMessage);
    for (;;) {
      const { client, connected } = sub;
      try {
        await connected;
        if (this.closed) {
          // Released while connecting (release() destroys it too, once the connect settles).
          client.destroy();
          throw new LLMError({ code: 'shutting_down', message: 'The Redis connection is closed' });
        }
        await client.subscribe!(channel, onMessage);
        break;
      } catch (e) {
        // Renewed meanwhile: the new connection subscribes the channel (it is in `channels`); wait for it.
        if (sub.client !== client && !this.closed) continue;
        listeners.delete(onMessage);
        if (listeners.size === 0) sub.channels.delete(channel);
        throw this.shownReply(e);
      }
    }
    sub.listening.add(onListening);
    onListening(true);
    return {
      caughtUp: () =>
        sub.client.sendCommand(['PING']).then(
          () => {
            sub.renewals = 0;
          },
          (e: unknown) => {
            // Refused, but answered: the connection delivers.
            if (isErrorReply(e)) sub.renewals = 0;
            throw this.shownReply(e);
          },
        ),
      renew: () => this.renew(sub),
      close: () => {
        sub.listening.delete(onListening);
        listeners.delete(onMessage);
        if (listeners.size === 0) sub.channels.delete(channel);
        void sub.client.unsubscribe?.(channel, onMessage).catch(() => {});
      },
    };
  }

  /** Tells the listeners what `client`'s events say, while it is the subscribed connection and no renewal runs. */
  private watch(sub: Subscriber, client: RedisCommandClient): void {
    const tell = (up: boolean) => {
      if (sub.client !== client || sub.renewing || this.closed) return;
      for (const l of sub.listening) l(up);
    };
    client.on('error', () => tell(false));
    client.on('reconnecting', () => tell(false));
    // After a reconnection, once node-redis has subscribed again to every channel.
    client.on('ready', () => tell(true));
    // Its reconnect strategy gave up: it no longer reconnects by itself. ('end' comes only from this handle's own
    // destroy, close or quit.)
    client.on('terminated', () => {
      if (sub.client !== client || sub.renewing || this.closed) return;
      tell(false);
      this.renew(sub);
    });
  }

  /** Drops the subscribed connection and subscribes every channel again on a new one (see `subscribe`). */
  private renew(sub: Subscriber): void {
    if (this.closed || sub.renewing || this.subscriber !== sub) return;
    for (const l of sub.listening) l(false);
    sub.renewing = true;
    sub.client.destroy();
    const attempt = async (): Promise<void> => {
      for (;;) {
        const n = sub.renewals++;
        if (n > 0) await sleepUnref(Math.min(RENEW_BACKOFF_MS * 2 ** (n - 1), RENEW_BACKOFF_MAX_MS));
        if (this.closed) return;
        const client = this.client.duplicate!();
        sub.client = client;
        this.watch(sub, client);
        try {
          await bounded(
            (async () => {
              await client.connect();
              for (const [channel, listeners] of sub.channels) for (const l of listeners) await client.subscribe!(channel, l);
            })(),
            RENEW_TRY_MS,
            'subscription renewal',
          );
        } catch {
          client.destroy();
          continue;
        }
        if (this.closed) {
          client.destroy();
          return;
        }
        sub.renewing = false;
        for (const l of sub.listening) l(true);
        return;
      }
    };
    sub.connected = attempt();
    sub.connected.catch(() => {});
  }

  /** Sends `args`; a refusal is Redis's error reply (see `shownReply` for a URL whose address is not sure). */
  command<T = unknown>(args: ReadonlyArray<string>): Promise<T> {
    return this.client.sendCommand<T>(args).catch((e: unknown) => Promise.reject(this.shownReply(e)));
  }

  async eval<T = unknown>(script: LuaScript, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<T> {
    const tail = [String(keys.length), ...keys, ...args.map(String)];
    try {
      return await this.client.sendCommand<T>(['EVALSHA', script.sha, ...tail]);
    } catch (e) {
      if (!String((e as Error)?.message ?? e).startsWith('NOSCRIPT')) throw this.shownReply(e);
      return this.command<T>(['EVAL', script.source, ...tail]);
    }
  }

  /**
   * A command's error as the handle shows it: unchanged, but with `hideClientErrors` (the URL's address is not sure) an
   * error reply that may name the user (`replyMayNameUser`: `NOPERM User <name> has no permissions to run the 'set'
   * command`, a piece of the password in such a URL) as its first word only (`hiddenReply`). Any other reply (a
   * script's error, `WRONGTYPE`, `OOM`) keeps its text. node-redis's own errors of a command are fixed texts ("The
   * client is offline", "Socket closed unexpectedly").
   */
  private shownReply(e: unknown): unknown {
    return this.hideClientErrors && isErrorReply(e) && replyMayNameUser(e as Error) ? hiddenReply(e) : e;
  }
}

/**
 * Whether a Redis error reply's text may name the user the client logged in as. Redis names it in `NOPERM` only (7.2
 * and later, acl.c `getAclErrorMessage`: `User <name> has no permissions to run the '<command>' command`, `... to
 * access the '<key>' key`, `... the '<channel>' channel`), which may also come inside another reply (multi.c's
 * `EXECABORT Transaction discarded because of: NOPERM ...`, a script's error); `WRONGPASS` and `NOAUTH` are fixed texts
 * about the login, hidden too, as is any reply about users, logins, ACLs or refusals in another server's or module's
 * wording (`The user executing the script can't run this command`, `no such username`, `AUTH failed for <name>`,
 * `invalid password`, `no such user_id <name>`, `acl_user <name>`, `account <name> is locked`, `bad credentials for
 * <name>`, `access denied for <name>`, `Unauthorized: <name>`, `sign-in failed for <name>`): `user`, `auth` or `passw`
 * anywhere (users, username, user_id, userId, acl_user, superuser; unauthorized, OAuth), and at the start of a word
 * (after anything but a letter, or where a lower-case letter meets an upper-case one: `badLogin`) login, logon,
 * logged, credential or identit, and the words ACL(s), account(s), principal(s), denied, forbidden, log(ging) in/on
 * and sign(ed, ing) in/on (`sign-in`, `signIn`). Not a script's or function's chunk name (`ERR user_script:1: ...`,
 * `@user_script:1`, `user_function:1:`) nor Lua's `userdata` (`attempt to get length of field 'null' (a userdata
 * value)`): such an error keeps its text, as do the replies a store meets otherwise (`WRONGTYPE`, `OOM`, `BUSY`,
 * `NOSCRIPT`, `READONLY`, `LOADING`, `MISCONF`, `EXECABORT`; "accounting", "used" are no such words).
 * A list of reply kinds whose text is safe would not do instead: `ERR` carries both a script's error (kept) and other
 * servers' refusals, and `EXECABORT` or a script's error may quote a `NOPERM`.
 */
function replyMayNameUser(e: Error): boolean {
  return REPLY_MAY_NAME_USER.test(e.message.replace(/([a-z])(?=[A-Z])/g, '$1 '));
}

/**
 * See `replyMayNameUser`; tested on the text with a space put where a lower-case letter meets an upper-case one, so
 * `(?<![a-z])` (case-insensitive) is the start of a word there too.
 */
const REPLY_MAY_NAME_USER =
  /NOPERM|WRONGPASS|NOAUTH|user(?!data|_(?:script|function)\b)|auth|passw|(?<![a-z])(?:log(?:in|on|ged)|credential|identit)|(?<![a-z])(?:acls?|accounts?|principals?|denied|forbidden)(?![a-z])|(?<![a-z])(?:log(?:ging)?|sign(?:ed|ing)?)[\s_.-]*(?:in|on)(?![a-z])/i;

/** What follows the first word of a Redis error reply shown by its kind only (`hiddenReply`). */
export const REPLY_TEXT_HIDDEN = "the rest of Redis's reply is not shown, as it may name a part of the password";

/**
 * What marks a reply `hiddenReply` made as an error reply (`isErrorReply`): a `Symbol.for` key, so that a minified
 * bundle, which renames the class (esbuild's `--minify` named it `_`), and a second copy of core still know it.
 */
const HIDDEN_REPLY = Symbol.for('@llmrr/core.redisErrorReply');

/**
 * A Redis error reply shown by its kind only, as its first word (`NOPERM`, `WRONGPASS`, `ERR`; see `replyKind`) and
 * `REPLY_TEXT_HIDDEN`: it still starts with that word (what callers tell a refusal by: `NOPERM`, `NOSCRIPT`) and is
 * still an error reply to `isErrorReply` (`HIDDEN_REPLY`).
 */
class ErrorReply extends Error {
  readonly [HIDDEN_REPLY] = true;
}

function hiddenReply(e: unknown): Error {
  return new ErrorReply(`${replyKind(e) ?? 'error reply'} (${REPLY_TEXT_HIDDEN})`);
}

/**
 * node-redis's `ErrorReply` classes of the modules `connectRedis` loaded. Core loads `redis` by `import(specifier)` (a
 * variable, `importOptional`), which esbuild never bundles, so this class keeps its name in a minified bundle: the
 * `instanceof` check is a guard only (a copy of node-redis that a bundler did inline), and a reply core hid is told by
 * its mark (`HIDDEN_REPLY`), never by its class.
 */
const REPLY_CLASSES = new Set<unknown>();

/**
 * Whether `e` is an error reply from Redis (node-redis `ErrorReply`, e.g. `NOPERM`, or one `hiddenReply` made): Redis
 * answered the command (refused it), the connection works. Anything else (a closed or reset connection, a client-side
 * timeout) is a connection failure. Never by a class name alone, which a minified bundle changes: the mark of a hidden
 * reply, an instance of the loaded node-redis's class, else (a second copy of node-redis) the class chain by name.
 */
export function isErrorReply(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  if ((e as { [HIDDEN_REPLY]?: unknown })[HIDDEN_REPLY] === true) return true;
  for (const c of REPLY_CLASSES) if (e instanceof (c as new () => Error)) return true;
  for (let p: unknown = Object.getPrototypeOf(e); p && p !== Error.prototype; p = Object.getPrototypeOf(p)) {
    if ((p as { constructor?: { name?: string } }).constructor?.name === 'ErrorReply') return true;
  }
  return false;
}

/**
 * The kind of a Redis error reply (`isErrorReply`): its leading upper-case word (`WRONGPASS`, `NOAUTH`, `NOPERM`,
 * `ERR`), or `error reply`; undefined for any other error. node-redis 6's reply (`SimpleError`) has no `code`, and its
 * name is `Error`; its text after that word may name the user.
 */
function replyKind(e: unknown): string | undefined {
  if (!isErrorReply(e)) return undefined;
  return /^[A-Z][A-Z_]{0,39}(?=\s|$)/.exec((e as Error).message)?.[0] ?? 'error reply';
}

/** Resolves after `ms`, on a timer that does not hold the process open. */
function sleepUnref(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref?.());
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
export function bounded<T>(work: Promise<T>, timeoutMs: number, what: string | (() => string), late?: (value: T) => void): Promise<T> {
  const named = () => (typeof what === 'string' ? what : what());
  return new Promise<T>((resolve, reject) => {
    let over = false;
    const timer = setTimeout(() => {
      over = true;
      reject(new LLMError({ code: 'store_unavailable', message: `Redis did not answer the ${named()} within ${timeoutMs} ms` }));
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
        reject(LLMError.isInstance(e) ? e : new LLMError({ code: 'store_unavailable', message: `Redis failed the ${named()}: ${(e as Error)?.message ?? String(e)}`, cause: e }));
      },
    );
  });
}

/** The longest the first connection (TCP connect, tries included, and handshake) may take (ms). */
const FIRST_CONNECT_TIMEOUT_MS = 10_000;

/** The bound of each try to open the connection (node-redis `connectTimeout`, ms): TCP's, and over TLS its handshake too. */
const TCP_CONNECT_TIMEOUT_MS = 5_000;

/**
 * Whether `e`, from `bounded` over the client's connect, is its own error for an answer that did not come in time: an
 * `LLMError` without a cause (what failed is kept as the cause; the client's connect never fails with an `LLMError`).
 */
function isBoundTimeout(e: unknown): boolean {
  return LLMError.isInstance(e) && e.cause === undefined;
}

/**
 * What a first connect that ran out of `FIRST_CONNECT_TIMEOUT_MS` says: whether a connection was made (`reached`, the
 * client's `connect`: Redis, or whatever listens there, then did not answer the handshake) or not, and after how long.
 * Not made: over TCP, no answer to the connection request in any try, each bounded by `TCP_CONNECT_TIMEOUT_MS` (a host
 * or firewall that drops it); over TLS (`tls`, `rediss://`), the client's `connect` comes only once TLS's handshake is
 * done, and that bound covers both, so either went unanswered (a server that takes the TCP connection but does not
 * speak TLS, or is stalled, too).
 */
function firstConnectTimedOut(reached: boolean, tls: boolean): string {
  const after = `timed out after ${FIRST_CONNECT_TIMEOUT_MS} ms`;
  if (reached) return `${after}: a ${tls ? 'TLS' : 'TCP'} connection was made, but no answer to the handshake came (what listens there may not be Redis, or is stalled)`;
  return tls
    ? `${after}: no TLS connection was completed (a TCP connect or TLS handshake goes unanswered for ${TCP_CONNECT_TIMEOUT_MS} ms: a host that is down, a firewall that drops it, or a server that does not speak TLS or is stalled)`
    : `${after}: no TCP connection was made (a connection request goes unanswered for ${TCP_CONNECT_TIMEOUT_MS} ms: a host that is down, or a firewall that drops it)`;
}

/** Connects, failing fast with a clear error when Redis is unreachable. */
export async function connectRedis(url: string, prefix: string, what = 'Redis state store (shared mode)'): Promise<RedisHandle> {
  const mod = await importOptional<RedisModule>('redis', { engine: what, install: 'redis@6' });
  if (typeof mod.ErrorReply === 'function') REPLY_CLASSES.add(mod.ErrorReply);
  let connected = false;
  let client: RedisCommandClient;
  try {
    client = mod.createClient({
      url,
      // While reconnecting, fail commands at once instead of queueing them: a request should get an
      // error it can report, not hang until Redis is back.
      disableOfflineQueue: true,
      // Over a unix socket, no maintenance notifications (Redis Enterprise's, moving a TCP endpoint; `auto` by
      // default with RESP3): their handshake reads the host with `new URL(url)`, which refuses a unix URL with a user
      // or password ("Invalid URL": no connection at all), and finds none in one without. Duplicates (the
      // subscribed connection) take the options too.
      ...(/^unix:/i.test(url) ? { maintNotifications: 'disabled' as const } : {}),
      socket: {
        connectTimeout: TCP_CONNECT_TIMEOUT_MS,
        // Reconnect forever once connected; give up on the very first connect after a few tries, saying why.
        reconnectStrategy: (retries, cause) => (connected || retries < 3 ? Math.min(50 * 2 ** retries, 2_000) : new Error(`gave up after ${retries + 1} tries: ${cause?.message ?? String(cause)}`)),
      },
    });
  } catch (e) {
    // The client parses the URL here: a URL that does not parse throws Node's `TypeError [ERR_INVALID_URL]`, whose
    // `input` is the whole URL, password and all. Not kept as the cause; its message only with the URL redacted.
    const reason = String((e as Error)?.message ?? e).split(url).join(redactUrl(url));
    throw new LLMError({ code: 'config_invalid', message: `Cannot connect to Redis at ${redactUrl(url)}: the URL does not parse (${reason})` });
  }
  const handle = new RedisHandle(client, prefix, !isAddressSure(url));
  // Whether a connection was made (the client's `connect`, before its handshake; over TLS, after TLS's own): what the
  // bound's error says.
  let reached = false;
  client.on('connect', () => {
    reached = true;
  });
  try {
    // `connectTimeout` bounds each TCP connect only: a peer that accepts and never answers the handshake (a tarpit,
    // another service) would hold the first connect, and a server's start, for ever.
    await bounded(client.connect(), FIRST_CONNECT_TIMEOUT_MS, 'first connect', () => client.destroy());
    connected = true;
  } catch (caught) {
    client.destroy();
    // Past the bound (the client's own error, if any, is only its last try's): what happened, and after how long.
    const e = isBoundTimeout(caught) ? new LLMError({ code: 'store_unavailable', message: firstConnectTimedOut(reached, /^rediss:/i.test(url)) }) : caught;
    // The client's error names the host it parsed: a piece of the password when the address is not surely read.
    // Its kind is kept: the last connection error's code (`ECONNREFUSED`, from `lastError`) or a reply's first word
    // (`WRONGPASS`), or the bound's own message.
    if (!isAddressSure(url)) {
      const ours = LLMError.isInstance(e) && e.cause === undefined;
      const failure = handle.lastError ?? (LLMError.isInstance(e) ? e.cause : e);
      throw new LLMError({ code: 'engine_unavailable', message: `Cannot connect to Redis at ${redactUrl(url)}: ${ours ? (e as LLMError).message : clientErrorNotShown(failure, replyKind(failure))}` });
    }
    throw new LLMError({ code: 'engine_unavailable', message: `Cannot connect to Redis at ${redactUrl(url)}: ${(e as Error)?.message ?? e}`, cause: e });
  }
  return handle;
}

/** The URL without user info, query string and fragment, for messages (see `util/redact-url.ts`). */
export { redactUrl };
