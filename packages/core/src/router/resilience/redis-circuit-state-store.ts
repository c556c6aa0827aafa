import { randomUUID } from 'node:crypto';
import { LLMError } from '../../errors/llm-error.js';
import { connectRedis, isErrorReply, storeTimeoutMs, type LuaScript, type RedisHandle, type RedisSubscription } from '../../stores/redis/redis-connection.js';
import type { CircuitState } from './circuit-breaker.js';
import {
  ACQUIRE_CIRCUIT_SCRIPT,
  MARK_CIRCUIT_SCRIPT,
  PEEK_CIRCUIT_SCRIPT,
  REPORT_CIRCUIT_SCRIPT,
  RESET_CIRCUIT_SCRIPT,
  UNANNOUNCED_MARK_MS,
} from './circuit-scripts.js';
import type { CircuitOptions, CircuitPermit, CircuitStateStore, DeploymentCircuit } from './circuit-state-store.js';
import { safeWarn } from '../../util/safe-warn.js';

export interface RedisCircuitStateStoreOptions {
  /** Put before every circuit key. Default `llmrr:circuit:`. */
  keyPrefix?: string;
  /**
   * How long a half-open probe holds its slot when its process never reports back (it died). Default
   * 120 000 ms: keep it above the longest attempt (`timeouts.totalMs`).
   */
  probeTtlMs?: number;
  /** Longest wait for an admission answer (or a token count's state read); past it (or on a Redis error) the router's own view decides. Default 1 000 ms. */
  timeoutMs?: number;
  /**
   * Told about Redis errors (the call then goes on from the local view). Default: a message, at most every 30 s per
   * log, to a log (see `warn`).
   */
  onError?: (error: unknown) => void;
  /**
   * Where the messages go without `onError`. An error a circuit met goes to the `warn` of the router that circuit is
   * for (`RouterOptions.warn`), else to this one, else `console.warn`; one that concerns no circuit in particular
   * (the subscription, a Redis user that may not PUBLISH) goes to this one, else to the log of each router using the
   * store (`join`: its `warn`, or `console.warn` for one without), and one raised before any router joined (as
   * `connect` waits) is kept until the first does (`console.warn` at `close` when none ever did).
   */
  warn?: (message: string) => void;
}

/** `console.warn`, as a log of its own (looked up when called: a test may replace it). */
const CONSOLE_WARN = (message: string): void => console.warn(message);
/** At most one message per log this often (ms). */
const WARN_INTERVAL_MS = 30_000;
const PREFIX = 'Redis circuit store: ';

const DEFAULT_PREFIX = 'llmrr:circuit:';
/** An idle circuit's keys (open, or with failures counted) live this long after their last change. */
const KEEP_MS = 86_400_000;
const TIMED_OUT = Symbol('timed out');
/** Circuits whose failure notices a store keeps count of (more, and it forgets them all: see `#notice`). */
const MAX_NOTICED = 10_000;
/** How often a store checks that its subscribed connection still delivers (a PING answered within `timeoutMs`). */
const HEARING_CHECK_MS = 2_000;
/**
 * How long past `timeoutMs` a PING on the subscribed connection may stay unanswered before the connection is taken
 * as stalled and renewed (until then a late answer is waited for: a slow Redis still delivers what it queued).
 */
const STALLED_PING_MS = 5_000;
/** How often a store that may not publish failure notices checks whether it may again. */
const PUBLISH_RECHECK_MS = 20_000;
/** How often a store that may not publish failure notices renews the mark of every circuit it created. */
const MARK_RENEW_MS = UNANNOUNCED_MARK_MS / 2;
/** Mark scripts in flight at once when a store marks every circuit it created (each is one key: cluster-safe). */
const MARK_BATCH = 256;

/** A Redis ACL refusal (NOPERM). */
function isNoPerm(e: unknown): boolean {
  return String((e as Error)?.message ?? e).startsWith('NOPERM');
}

/** The permit of a disabled circuit (nothing is reported). */
const UNCOUNTED: CircuitPermit = Object.freeze({ probe: false });
/** Admitted closed with failures counted (or decided locally): a success is reported, to reset them. */
const DIRTY: CircuitPermit = Object.freeze({ probe: false });

class SharedProbe implements CircuitPermit {
  readonly probe = true;
  constructor(readonly id: string) {}
}

type AcquireReply = [number, string, number, number, number, number, number?];
type ReportReply = [string, number, number, number, number, number];
type PeekReply = [string, number, number];

function stateOf(code: string): CircuitState {
  return code === 'o' ? 'open' : code === 'h' ? 'half-open' : 'closed';
}

function invalid(param: string, message: string): LLMError {
  return new LLMError({ code: 'config_invalid', message: `Invalid Redis circuit store option: ${param} ${message}`, param });
}

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) throw invalid(name, `must be a positive integer (ms), got ${String(value)}`);
  return value;
}

/**
 * Circuit breakers shared by every router (gateway process) on the same Redis and key prefix: failures
 * seen by one process open the circuit for all, the half-open probes are counted across all of them,
 * and a successful probe anywhere closes it everywhere.
 *
 * Per attempt: admission is one Lua script (state read, cooldown check with Redis's clock, probe slot),
 * awaited before the request goes out; the outcome is a second script only when it changes something
 * (a failure, a probe, or a success after failures), sent without waiting. A healthy deployment thus
 * costs one round trip per attempt. Other routers' failures are heard as notices the outcome script
 * publishes (a circuit's first failure since it had none), on a second, subscribed connection: a success
 * after one is reported, to reset it. Silence is trusted only while that connection answers a PING (every
 * 2 s, within `timeoutMs`) and while no router that cannot publish (its Redis user lacks PUBLISH on
 * `<keyPrefix>failed`) has marked the circuit: such a router marks every circuit it created (the hash's `u`, for a
 * minute, renewed every 30 s; its scripts on a circuit mark it too), which admissions read (see docs/core/router.md,
 * "Shared circuit state").
 * A token count takes no permit: it reads the state with a script that writes nothing (`peek`) and reports
 * a provider failure as `unadmittedFailure`. Candidate filtering reads each router's local view (the state
 * its last script answer showed) and never waits. When Redis fails or is slow, the local view decides
 * and `onError` hears about it: the circuit store never fails a call.
 */
export class RedisCircuitStateStore implements CircuitStateStore {
  readonly keyPrefix: string;
  readonly probeTtlMs: number;
  readonly timeoutMs: number;
  readonly #redis: RedisHandle;
  /** The `onError` option (undefined: `#warn`). */
  readonly #onError: ((error: unknown) => void) | undefined;
  readonly #pending = new Set<Promise<unknown>>();
  readonly #instance = randomUUID().slice(0, 8);
  #probeCounter = 0;
  /** The store's own `warn` option (made safe to call). */
  readonly #ownWarn: ((message: string) => void) | undefined;
  /** The logs of the routers joined (`join`), with how many joins each has (CONSOLE_WARN for a router without one). */
  readonly #joined = new Map<(message: string) => void, number>();
  /** When each log last got a message (`#tell`: at most one every WARN_INTERVAL_MS). */
  readonly #lastWarning = new WeakMap<(message: string) => void, number>();
  /** The first message no log could be told (no router joined yet), and how many more came since: for the first to join. */
  #held: { message: string; more: number } | undefined;
  #closed = false;
  /** Where the outcome script announces a circuit's first failure since it last had none (message: its hash key). */
  readonly #channel: string;
  readonly #listening: Promise<void>;
  #subscription: RedisSubscription | undefined;
  /** Whether failure notices are heard now: subscribed, connection up, not late, this store can publish. */
  #hearing = false;
  /** The subscribed connection is up (as the handle says). */
  #up = false;
  /** A PING on the subscribed connection went unanswered past `timeoutMs` (and is still unanswered). */
  #late = false;
  /** Redis refused the last PING (an error reply; told to `onError` once until a PING is answered again). */
  #pingRefused = false;
  /** The PING in flight on the subscribed connection, bounded by `timeoutMs` (see `#checkHearing`). */
  #check: Promise<void> | undefined;
  #checkTimer: ReturnType<typeof setInterval> | undefined;
  /** This store's Redis user may not PUBLISH on the channel (see `unannounced`). */
  #cannotPublish = false;
  /** While `#cannotPublish`: checks every PUBLISH_RECHECK_MS whether it may again. */
  #recheckTimer: ReturnType<typeof setInterval> | undefined;
  /** The hash key of every circuit this store created (marked while `#cannotPublish`, see `#markAll`). */
  readonly #circuitKeys = new Set<string>();
  /** While `#cannotPublish`: renews every MARK_RENEW_MS the marks of the circuits in `#circuitKeys`. */
  #markTimer: ReturnType<typeof setInterval> | undefined;
  /** The `#markAll` run in progress (none starts while one runs). */
  #marking: Promise<void> | undefined;
  /** Numbers the notices heard and the gaps in hearing them (see `heard`). */
  #seq = 0;
  /** `#seq` at the last time notices may have been missed or were heard again. */
  #gapAt = 0;
  /** `#seq` at the last failure notice heard, per circuit hash key (at most MAX_NOTICED keys). */
  readonly #notices = new Map<string, number>();

  /** Over an open connection (e.g. the shared-mode stores' one); the store holds a reference until `close()`. */
  constructor(redis: RedisHandle, options: RedisCircuitStateStoreOptions = {}) {
    const prefix = options.keyPrefix ?? DEFAULT_PREFIX;
    if (typeof prefix !== 'string') throw invalid('keyPrefix', 'must be a string');
    this.keyPrefix = prefix;
    this.probeTtlMs = positiveInt('probeTtlMs', options.probeTtlMs, 120_000);
    this.timeoutMs = storeTimeoutMs(options.timeoutMs, 1_000, 'Redis circuit store');
    this.#ownWarn = options.warn === undefined ? undefined : safeWarn(options.warn);
    this.#onError = options.onError;
    this.#redis = redis.retain(this.timeoutMs);
    this.#channel = `${prefix}failed`;
    this.#listening = Promise.all([this.#listen(), this.#probePublish()]).then(() => undefined);
  }

  /** Subscribes to the failure notices; when that fails, every success is reported (see `heard`). */
  async #listen(): Promise<void> {
    try {
      const subscription = await this.#redis.subscribe(
        this.#channel,
        (key) => this.#notice(key),
        (up) => {
          this.#up = up;
          this.#setHearing();
        },
      );
      if (this.#closed) {
        subscription.close();
        return;
      }
      this.#subscription = subscription;
      this.#checkTimer = setInterval(() => void this.#checkHearing(), HEARING_CHECK_MS);
      this.#checkTimer.unref?.();
    } catch (e) {
      if (!(LLMError.isInstance(e) && e.code === 'unsupported') && !this.#closed) this.error(e);
    }
  }

  /** Whether this store's Redis user may publish failure notices: one PUBLISH of an empty message (ignored). */
  async #probePublish(): Promise<void> {
    try {
      await this.#redis.command(['PUBLISH', this.#channel, '']);
    } catch (e) {
      if (isNoPerm(e)) this.unannounced(e);
      else if (!this.#closed) this.error(e);
    }
  }

  #setHearing(): void {
    this.#hearing = this.#up && !this.#late && !this.#closed && !this.#cannotPublish;
    // Any change may have lost notices (or stopped a router from sending them): a gap.
    this.#gapAt = ++this.#seq;
  }

  /**
   * One PING on the subscribed connection, answered after every notice queued there before it (an error reply, as
   * when an ACL refuses PING, is an answer too: told to `onError` once, until a PING is answered again). Unanswered
   * within `timeoutMs` (a slow Redis, or a stalled connection or proxy that keeps it open), silence is not trusted
   * until it is answered; unanswered STALLED_PING_MS longer, or failed with its connection while that looked up, the
   * connection is renewed (dropped, and the channel subscribed again on a new one, with a bounded backoff:
   * `RedisSubscription.renew`); once that one listens, silence is trusted again (a gap: calls admitted before report
   * their success). No second PING while one is unanswered.
   */
  #checkHearing(): Promise<void> {
    const subscription = this.#subscription;
    if (subscription === undefined || !this.#up || this.#late || this.#closed) return Promise.resolve();
    this.#check ??= new Promise<void>((resolve) => {
      let stalled: ReturnType<typeof setTimeout> | undefined;
      const timer = setTimeout(() => {
        this.#late = true;
        this.#setHearing();
        resolve();
        stalled = setTimeout(() => {
          if (!this.#closed) subscription.renew();
        }, STALLED_PING_MS);
        stalled.unref?.();
      }, this.timeoutMs);
      timer.unref?.();
      const settled = (error?: unknown) => {
        // Answered (late or not, refused or not), or failed with its connection (which then says when it is up again).
        clearTimeout(timer);
        clearTimeout(stalled);
        this.#check = undefined;
        const late = this.#late;
        if (late) {
          this.#late = false;
          this.#setHearing();
        }
        resolve();
        if (this.#closed) return;
        if (error === undefined) {
          this.#pingRefused = false;
        } else if (isErrorReply(error)) {
          if (!this.#pingRefused) this.error(error);
          this.#pingRefused = true;
        } else if (!late && this.#up) {
          // Failed with its connection while that looked up: what it delivers is not known.
          this.#up = false;
          this.#setHearing();
          this.error(error);
          subscription.renew();
        }
      };
      subscription.caughtUp().then(
        () => settled(),
        (e: unknown) => settled(e ?? new Error('PING failed')),
      );
    });
    return this.#check;
  }

  /**
   * @internal This store's Redis user was refused a PUBLISH on the channel (the probe at start, or the outcome
   * script's notice, which then marked its circuit): its failures go unannounced. It tells `onError` (once per such
   * period), no longer trusts silence itself (every success is reported), marks every circuit it created (the
   * hash's `u`, read by every admission: a success of a call admitted while it is set is reported; one script per
   * circuit: one cluster slot each), renews those marks every MARK_RENEW_MS, and marks each circuit it creates or
   * touches from now on. It re-checks every PUBLISH_RECHECK_MS whether it may publish.
   */
  unannounced(cause?: unknown): void {
    if (this.#closed || this.#cannotPublish) return;
    this.#cannotPublish = true;
    this.#setHearing();
    const detail = cause === undefined ? '' : `: ${(cause as Error)?.message ?? String(cause)}`;
    this.error(
      new LLMError({
        code: 'permission_denied',
        message: `Redis circuit store: this Redis user may not PUBLISH on ${this.#channel}${detail}; so every router reports every success (a second round trip) on the circuits this one uses until it may (give every router's Redis user PUBLISH and SUBSCRIBE on that channel)`,
        cause,
      }),
    );
    this.#recheckTimer = setInterval(() => void this.#recheckPublish(), PUBLISH_RECHECK_MS);
    this.#recheckTimer.unref?.();
    this.#markTimer = setInterval(() => void this.#markAll(), MARK_RENEW_MS);
    this.#markTimer.unref?.();
    void this.#markAll();
  }

  /**
   * Marks every circuit this store created, `MARK_BATCH` scripts at a time (a large store's marks go out in
   * pipelined batches, not all at once); none while another run is in progress, or once the store is closed or may
   * publish again. The first error of a run is told to `onError`; the run goes on (each circuit is marked again at
   * the next renewal, and by its admissions).
   */
  #markAll(): Promise<void> {
    this.#marking ??= (async () => {
      let failed = false;
      const keys = [...this.#circuitKeys];
      for (let i = 0; i < keys.length && this.#cannotPublish && !this.#closed; i += MARK_BATCH) {
        await Promise.all(
          keys.slice(i, i + MARK_BATCH).map((key) =>
            this.#redis.eval(MARK_CIRCUIT_SCRIPT, [key], []).catch((e: unknown) => {
              if (!failed && !this.#closed) this.error(e);
              failed = true;
            }),
          ),
        );
      }
    })().finally(() => (this.#marking = undefined));
    this.track(this.#marking);
    return this.#marking;
  }

  /** Marks one circuit this store just created, while it cannot publish failure notices. */
  #markNew(key: string, circuit: CircuitOptions): void {
    if (!this.#cannotPublish || this.#closed) return;
    this.track(this.#redis.eval(MARK_CIRCUIT_SCRIPT, [key], []).catch((e: unknown) => this.error(e, circuit)));
  }

  /**
   * A router using this store joins it with its `warn` (undefined: `console.warn` stands for it): what concerns no
   * circuit in particular is told to each log joined (unless the store has a `warn` of its own), a message kept since
   * before any router joined to this one at once. The function returned leaves (once; the router calls it at close).
   */
  join(warn: ((message: string) => void) | undefined): () => void {
    const log = warn ?? CONSOLE_WARN;
    this.#joined.set(log, (this.#joined.get(log) ?? 0) + 1);
    const held = this.#held;
    if (held !== undefined && this.#ownWarn === undefined) {
      this.#held = undefined;
      this.#tell(log, held.more > 0 ? `${held.message} (and ${held.more} more error(s) since)` : held.message);
    }
    let left = false;
    return () => {
      if (left) return;
      left = true;
      const n = this.#joined.get(log) ?? 0;
      if (n <= 1) this.#joined.delete(log);
      else this.#joined.set(log, n - 1);
    };
  }

  async #recheckPublish(): Promise<void> {
    try {
      await this.#redis.command(['PUBLISH', this.#channel, '']);
    } catch (e) {
      if (!isNoPerm(e) && !this.#closed) this.error(e);
      return;
    }
    // Allowed again: the marks lapse by themselves (unless another router renews them).
    clearInterval(this.#recheckTimer);
    this.#recheckTimer = undefined;
    clearInterval(this.#markTimer);
    this.#markTimer = undefined;
    if (this.#closed) return;
    this.#cannotPublish = false;
    this.#setHearing();
  }

  /** @internal Whether this store's admissions mark their circuit (it may not publish failure notices). */
  get unannouncing(): boolean {
    return this.#cannotPublish;
  }

  /** Connects to `url` (needs the optional `redis` package) and opens a store on its own connection. */
  static async connect(url: string, options: RedisCircuitStateStoreOptions = {}): Promise<RedisCircuitStateStore> {
    if (typeof url !== 'string' || url === '') throw invalid('url', 'must be a redis:// URL');
    const redis = await connectRedis(url, '', 'Redis circuit store');
    let store: RedisCircuitStateStore;
    try {
      store = new RedisCircuitStateStore(redis, options);
    } catch (e) {
      await redis.retain().release();
      throw e;
    }
    // Until it hears failure notices, every success is reported: wait (a bounded time) to start as it goes on.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([store.#listening, new Promise<void>((resolve) => (timer = setTimeout(resolve, store.timeoutMs)))]);
    clearTimeout(timer);
    return store;
  }

  circuit(key: string, options: CircuitOptions): DeploymentCircuit {
    // The hash tag keeps both keys of a circuit in one cluster slot.
    const hashKey = `${this.keyPrefix}{${key}}`;
    if (!this.#closed && !this.#circuitKeys.has(hashKey)) {
      this.#circuitKeys.add(hashKey);
      this.#markNew(hashKey, options);
    }
    return new SharedCircuit(this, hashKey, options);
  }

  /**
   * Resolves once every outcome sent so far has been applied in Redis, and the failure notices of outcomes
   * Redis applied before (other routers' too) have been heard (tests, shutdown).
   */
  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
    // Bounded by timeoutMs: past it (a stalled connection) notices are no longer trusted (see `heard`).
    if (this.#hearing) await this.#checkHearing();
  }

  /**
   * Waits for outcomes in flight (at most `timeoutMs`: a stalled Redis never answers them), then lets go of the
   * connection. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#setHearing();
    clearInterval(this.#checkTimer);
    clearInterval(this.#recheckTimer);
    clearInterval(this.#markTimer);
    this.#circuitKeys.clear();
    this.#subscription?.close();
    // Kept for a router that never joined: not lost.
    const held = this.#held;
    this.#held = undefined;
    if (held !== undefined) this.#tell(CONSOLE_WARN, held.more > 0 ? `${held.message} (and ${held.more} more error(s) since)` : held.message);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.flush(), new Promise<void>((resolve) => (timer = setTimeout(resolve, this.timeoutMs)))]);
    clearTimeout(timer);
    await this.#redis.release();
  }

  /**
   * @internal What this store has heard of `key`'s failures: a number that changes with each failure notice for
   * it (and whenever notices may have been missed), or undefined while notices are not heard (the subscribed
   * connection down, not answering a PING within `timeoutMs`, or this store's user unable to publish).
   */
  heard(key: string): number | undefined {
    return this.#hearing ? Math.max(this.#gapAt, this.#notices.get(key) ?? 0) : undefined;
  }

  #notice(key: string): void {
    // The empty message of a publish probe (see `#probePublish`).
    if (key === '') return;
    if (this.#notices.size >= MAX_NOTICED && !this.#notices.has(key)) {
      // Forgetting what was heard is a gap: every circuit reports its next success once.
      this.#notices.clear();
      this.#gapAt = ++this.#seq;
    }
    this.#notices.set(key, ++this.#seq);
  }

  /** @internal The channel the outcome script announces failures on. */
  get channel(): string {
    return this.#channel;
  }

  /** @internal */
  probeId(): string {
    return `${this.#instance}:${++this.#probeCounter}`;
  }

  /** @internal Runs a script; rejects on Redis errors (and once the store is closed). */
  run<T>(script: LuaScript, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<T> {
    if (this.#closed) return Promise.reject(new LLMError({ code: 'shutting_down', message: 'The Redis circuit store is closed' }));
    return this.#redis.eval<T>(script, keys, args);
  }

  /** @internal Closes a circuit for every router (nothing once the store is closed). */
  resetCircuit(keys: readonly string[]): Promise<unknown> {
    if (this.#closed) return Promise.resolve();
    return this.#redis.eval(RESET_CIRCUIT_SCRIPT, keys, []);
  }

  /** @internal Keeps a fire-and-forget report visible to `flush()`. */
  track(p: Promise<unknown>): void {
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p));
  }

  /** @internal `circuit`: the options of the circuit that met the error (its router's `warn`); none for the store's own. */
  error(e: unknown, circuit?: CircuitOptions): void {
    try {
      if (this.#onError !== undefined) this.#onError(e);
      else this.#warn(e, circuit);
    } catch {
      // a throwing error handler never breaks a call
    }
  }

  /**
   * The default `onError`: a circuit's error to its router's log (else the store's `warn`, else `console.warn`); the
   * store's own to the store's `warn`, else each router's joined, else kept for the first to join.
   */
  #warn(e: unknown, circuit: CircuitOptions | undefined): void {
    const text = e instanceof Error ? e.message : String(e);
    const message = `[llmrr] ${text.startsWith(PREFIX) ? '' : PREFIX}${text}; circuits decide from local state meanwhile`;
    if (circuit !== undefined) {
      this.#tell(circuit.warn ?? this.#ownWarn ?? CONSOLE_WARN, message);
    } else if (this.#ownWarn !== undefined) {
      this.#tell(this.#ownWarn, message);
    } else if (this.#joined.size > 0) {
      for (const log of this.#joined.keys()) this.#tell(log, message);
    } else if (this.#held === undefined) {
      this.#held = { message, more: 0 };
    } else {
      this.#held.more++;
    }
  }

  /** Tells `log` the message unless it was told one less than WARN_INTERVAL_MS ago (a clock set back: it was not). */
  #tell(log: (message: string) => void, message: string): void {
    const now = Date.now();
    const last = this.#lastWarning.get(log);
    if (last !== undefined && now >= last && now - last < WARN_INTERVAL_MS) return;
    this.#lastWarning.set(log, now);
    safeWarn(log)(message);
  }
}

/** One deployment's circuit in Redis, with this router's view of it. */
class SharedCircuit implements DeploymentCircuit {
  private readonly keys: [string, string];
  private view: CircuitState = 'closed';
  /** Local-clock time at which an open view turns half-open. */
  private openUntil = 0;
  /** Redis-clock time the circuit last opened. */
  openedAt = 0;
  /** The failure count the newest script answer showed. */
  private knownFailures = 0;
  /**
   * Scripts sent for this circuit, numbered in the order sent. Redis answers them in that order, but their
   * handlers run a few microtasks apart (an admission answer races its deadline first), so an older answer can
   * be handled after a newer one: it is taken into the view only when newer than `applied`, the last one taken.
   */
  private sent = 0;
  private applied = 0;
  /** Failures this router reported that Redis has not answered yet. */
  private failuresInFlight = 0;
  /**
   * The failure report (its number in `sent`) that opens the circuit as far as this router can tell (the count
   * reached `failureThreshold`, or a probe failed), until its answer (or a newer one) is taken; 0 when none. Meanwhile
   * the circuit reads unavailable (until `openingUntil`, local clock), as the in-memory breaker does at once.
   */
  private opening = 0;
  private openingUntil = 0;
  /** The latest success report (its number in `sent`); 0 when none, or it failed. */
  private successSent = 0;
  /** The latest failure report (its number in `sent`) and its handling: resolves once its answer is taken (or it failed). */
  private failureSent = 0;
  private failureAnswer: Promise<void> | undefined;
  /**
   * The permit of a call admitted closed with no failure counted, while the store has heard `cleanHeard` of this
   * circuit's failures (a new one when that changes): its success is not reported unless a failure was heard of
   * since (see `success`).
   */
  private clean: CircuitPermit = DIRTY;
  private cleanHeard: number | undefined;

  constructor(
    private readonly store: RedisCircuitStateStore,
    key: string,
    private readonly options: CircuitOptions,
  ) {
    this.keys = [key, `${key}:probes`];
  }

  get enabled(): boolean {
    return this.options.config.enabled;
  }

  get state(): CircuitState {
    if (this.view === 'open' && this.options.now() >= this.openUntil) this.setView('half-open');
    return this.view;
  }

  /**
   * Open (within its cooldown, as last seen, or opening: a failure of this router's that opens it is on its way)
   * refuses; half-open is left to the store's admission.
   */
  isAvailable(): boolean {
    if (!this.options.config.enabled) return true;
    return this.opening === 0 ? this.state !== 'open' : this.reopensInMs() === 0;
  }

  /** The rest of the cooldown of the circuit as last seen open, or as opening (see `opening`); 0 otherwise. */
  reopensInMs(): number {
    if (!this.options.config.enabled) return 0;
    const now = this.options.now();
    if (this.opening !== 0) return Math.max(0, this.openingUntil - now);
    return this.view === 'open' ? Math.max(0, this.openUntil - now) : 0;
  }

  acquire(force = false): CircuitPermit | undefined | Promise<CircuitPermit | undefined> {
    const config = this.options.config;
    if (!config.enabled) return UNCOUNTED;
    // Open within its cooldown as last seen: refused without asking (like the in-memory breaker).
    if (!force && this.state === 'open') return undefined;
    const id = this.store.probeId();
    const seq = ++this.sent;
    // As heard when the script is sent: a failure counted after the admission is heard of after this.
    const clean = this.cleanPermit();
    const reply = this.store.run<AcquireReply>(ACQUIRE_CIRCUIT_SCRIPT, this.keys, [
      force ? 1 : 0,
      config.cooldownMs,
      config.halfOpenMaxProbes,
      id,
      this.store.probeTtlMs,
      Math.max(KEEP_MS, config.cooldownMs * 2),
      this.store.unannouncing ? 1 : 0,
    ]);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), this.store.timeoutMs);
    });
    return Promise.race([reply, deadline]).then(
      (r) => {
        clearTimeout(timer);
        if (r === TIMED_OUT) {
          // Too late to wait: decide locally, and give back a probe slot the late answer may still take.
          reply.then((late) => {
            this.apply(seq, late[1], Number(late[2]), late[3], late[4]);
            if (Number(late[0]) === 1 && late[1] === 'h') this.report('r', new SharedProbe(id));
          }, () => {});
          this.store.error(new LLMError({ code: 'timeout', message: `no circuit admission answer within ${this.store.timeoutMs} ms` }), this.options);
          return this.local(force);
        }
        this.apply(seq, r[1], Number(r[2]), r[3], r[4]);
        if (Number(r[0]) !== 1) return undefined;
        if (r[1] === 'h') return new SharedProbe(id);
        // Failures counted, or the circuit marked (a router that cannot announce its failures uses it): reported.
        return Number(r[2]) === 0 && Number(r[6]) !== 1 ? clean : DIRTY;
      },
      (e: unknown) => {
        clearTimeout(timer);
        this.store.error(e, this.options);
        return this.local(force);
      },
    );
  }

  /**
   * The shared state, read-only (one script that writes nothing: an open circuit past its cooldown answers
   * `half-open` and stays open in Redis; no probe slot; this router's view is not changed, so no event).
   * An open view within its cooldown answers at once, as `acquire` refuses without asking. Past `timeoutMs`,
   * on a Redis error (told to `onError`) or once `signal` aborts: this router's view.
   */
  peek(signal?: AbortSignal): CircuitState | Promise<CircuitState> {
    const config = this.options.config;
    if (!config.enabled) return 'closed';
    const local = this.localState();
    if (local === 'open' || signal?.aborted) return local;
    const reply = this.store.run<PeekReply>(PEEK_CIRCUIT_SCRIPT, [this.keys[0]], [config.cooldownMs]);
    return new Promise<CircuitState>((resolve) => {
      const done = (state: CircuitState) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(state);
      };
      const onAbort = () => done(this.localState());
      const timer = setTimeout(() => {
        this.store.error(new LLMError({ code: 'timeout', message: `no circuit state answer within ${this.store.timeoutMs} ms` }), this.options);
        done(this.localState());
      }, this.store.timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      reply.then(
        (r) => done(stateOf(String(r[0]))),
        (e: unknown) => {
          this.store.error(e, this.options);
          done(this.localState());
        },
      );
    });
  }

  /** This router's view, read-only (no round trip, no transition). */
  peekLocal(): CircuitState {
    return this.localState();
  }

  /** A failure of work that took no permit (a token count): see `DeploymentCircuit.unadmittedFailure`. */
  unadmittedFailure(): void {
    if (!this.options.config.enabled) return;
    this.report('u', undefined);
  }

  /**
   * A success resets the failure count. Skipped (no round trip) only when there is nothing to reset as far as
   * this router knows: admitted with none counted, none in the answers since, none of its own on the way, and
   * no notice of one since the admission was sent (the outcome script publishes a circuit's first failure
   * since it had none; while notices are not heard, or the circuit is marked by a router that cannot publish
   * them, every success is reported). See docs/core/router.md.
   */
  success(permit?: CircuitPermit): void {
    if (!this.options.config.enabled) return;
    if (
      permit === this.clean &&
      permit !== DIRTY &&
      this.knownFailures === 0 &&
      this.failuresInFlight === 0 &&
      this.store.heard(this.keys[0]) === this.cleanHeard
    ) {
      return;
    }
    this.report('s', permit);
  }

  failure(permit?: CircuitPermit): void {
    if (!this.options.config.enabled) return;
    const seq = this.report('f', permit);
    // Its answer comes later: as far as this router can tell, this failure opens the circuit (the outcome script's
    // rule), so it reads unavailable from now on to other calls' candidate filtering (the call that failed waits for
    // the answer: `failureAnswered`). Not while a success report sent since the last answer is unanswered: it may
    // have reset the count (or closed the circuit) before this failure, so the guess from that answer is stale.
    if (
      this.successSent <= this.applied &&
      (permit instanceof SharedProbe || (this.view === 'closed' && this.knownFailures + this.failuresInFlight >= this.options.config.failureThreshold))
    ) {
      this.opening = seq;
      this.openingUntil = this.options.now() + this.options.config.cooldownMs;
    }
  }

  release(permit?: CircuitPermit): void {
    if (this.options.config.enabled && permit instanceof SharedProbe) this.report('r', permit);
  }

  /**
   * Resolves once the answer to this router's latest failure report is taken into its view (or the report failed);
   * undefined when there is none unanswered (or a newer answer was taken already). A retry decides from it. Bounded by
   * `timeoutMs`, as every wait on Redis here: past it (a stalled Redis) the call decides from what this router knows.
   */
  failureAnswered(): Promise<void> | undefined {
    if (this.failureSent <= this.applied || this.failureAnswer === undefined) return undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    return Promise.race([this.failureAnswer, new Promise<void>((resolve) => (timer = setTimeout(resolve, this.store.timeoutMs)))]).finally(() => clearTimeout(timer));
  }

  /** Closes the circuit for every router (deletes its keys, but for its mark while it lasts). */
  reset(): void {
    // Answers to scripts sent before the keys go show the state they delete.
    this.applied = this.sent;
    this.knownFailures = 0;
    this.opening = 0;
    this.setView('closed');
    this.store.track(this.store.resetCircuit(this.keys).catch((e: unknown) => this.store.error(e, this.options)));
  }

  /** This router's view, read-only (an open view past its cooldown reads half-open without becoming it). */
  private localState(): CircuitState {
    return this.view === 'open' && this.options.now() >= this.openUntil ? 'half-open' : this.view;
  }

  /** The permit a call admitted now with no failure counted gets (DIRTY while notices are not heard). */
  private cleanPermit(): CircuitPermit {
    const heard = this.store.heard(this.keys[0]);
    if (heard === undefined) return DIRTY;
    if (heard !== this.cleanHeard || this.clean === DIRTY) {
      this.cleanHeard = heard;
      this.clean = Object.freeze({ probe: false });
    }
    return this.clean;
  }

  /** Admission without Redis: what this router last saw. */
  private local(force: boolean): CircuitPermit | undefined {
    return force || this.isAvailable() ? DIRTY : undefined;
  }

  /** Sends an outcome script without waiting; returns its number (`sent`). */
  private report(outcome: 's' | 'f' | 'r' | 'u', permit: CircuitPermit | undefined): number {
    const config = this.options.config;
    const failure = outcome === 'f' || outcome === 'u';
    if (failure) this.failuresInFlight++;
    const seq = ++this.sent;
    const p = this.store
      .run<ReportReply>(REPORT_CIRCUIT_SCRIPT, this.keys, [
        outcome,
        permit instanceof SharedProbe ? permit.id : '',
        config.failureThreshold,
        config.successThreshold,
        Math.max(KEEP_MS, config.cooldownMs * 2),
        config.cooldownMs,
        this.store.channel,
      ])
      .then(
        (r) => {
          if (failure) this.failuresInFlight--;
          this.apply(seq, r[0], Number(r[1]), r[2], r[3]);
          // The notice of this failure could not be published (an ACL; the script marked the circuit).
          if (Number(r[5]) === 0) this.store.unannounced();
        },
        (e: unknown) => {
          if (failure) this.failuresInFlight--;
          // Not counted: the view stays what it was.
          if (this.opening === seq) this.opening = 0;
          if (this.successSent === seq) this.successSent = 0;
          this.store.error(e, this.options);
        },
      );
    this.store.track(p);
    if (failure) {
      this.failureSent = seq;
      this.failureAnswer = p;
    } else if (outcome === 's') {
      this.successSent = seq;
    }
    return seq;
  }

  /** Takes the state script `seq` answered as this router's view, unless a newer answer was taken already. */
  private apply(seq: number, code: string, failures: number, openedAt: number, redisNow: number): void {
    // The answer to the opening failure, or a newer one: the view says now whether it opened.
    if (this.opening !== 0 && seq >= this.opening) this.opening = 0;
    if (seq <= this.applied) {
      // Its failures still count as known: a script re-sent after NOSCRIPT keeps its number but may have run after
      // the newer one. A success then resets them (at worst a round trip for nothing); the view waits for the next.
      this.knownFailures = Math.max(this.knownFailures, failures);
      return;
    }
    this.applied = seq;
    this.knownFailures = failures;
    const to = stateOf(String(code));
    this.openedAt = Number(openedAt);
    if (to === 'open') this.openUntil = this.options.now() + Math.max(0, this.openedAt + this.options.config.cooldownMs - Number(redisNow));
    this.setView(to);
  }

  private setView(to: CircuitState): void {
    const from = this.view;
    if (from === to) return;
    this.view = to;
    this.options.onTransition?.(from, to);
  }
}
