import { replayAsStream } from '../cache/replay-stream.js';
import { LLMError } from '../errors/llm-error.js';
import { toLLMError } from '../errors/to-llm-error.js';
import type { GenerateResult, StreamPart } from '../spec/index.js';
import type { RouterDeployment } from './deployment.js';
import { elapsedMs } from './elapsed-ms.js';
import type { AttemptTimeouts } from './resilience/attempt-scope.js';
import { runAttempts, type AttemptLease, type ExecutionHost, type ExecutionPlan } from './resilience/run-attempts.js';
import { StreamAccumulator } from './stream-accumulator.js';
import { Drain, handOver, StreamResult } from './stream-result.js';
import { billFailedAttempts, closeQuietly, PrimingAttempts, streamDriver, type PrimedStream } from './stream-driver.js';
import type { RoutePlan } from './plan-route.js';
import type { AttemptRecord, Cost, RouterResult, RouterStream, RouterStreamPart, StreamSpend } from './types.js';
import { computeCost } from '../pricing/compute-cost.js';
import { timerDelay } from '../util/timer-delay.js';

/** What a router stream needs from its router. */
export interface StreamHooks {
  host: ExecutionHost;
  requestId: string;
  startedAt: number;
  headers: Record<string, string> | undefined;
  estimatedInputTokens(): number;
  /** A cached answer, when the cache has one; undefined when the call looks nothing up. */
  cached(): Promise<RouterResult | undefined> | undefined;
  /** The route and the plan of attempts (a promise only when planning waits: prices, an embedding, a store). */
  plan(): { plan: ExecutionPlan; route: RoutePlan } | Promise<{ plan: ExecutionPlan; route: RoutePlan }>;
  /** The final result of a streamed answer. */
  build(d: RouterDeployment, result: GenerateResult, plan: ExecutionPlan, route: RoutePlan, ttftMs: number): RouterResult;
  /** Stores a finished answer in the cache (never throws). */
  store(result: RouterResult): Promise<void>;
  /** A deployment's stream got its first content (prompt-cache affinity remembers it; never throws). */
  primed?(d: RouterDeployment, route: RoutePlan): void;
  /**
   * Called once at the end: events. `answered`: a failed stream whose deployment had started answering - what that
   * partial answer consumed, at the deployment's price (`StreamAccumulator.partialUsage`), computed when asked (there
   * are listeners), during the call only.
   */
  end(result: RouterResult | undefined, error: LLMError | undefined, answered?: () => StreamSpend | undefined): void;
  /** `GenerateOptions.beforeAttemptAfterSpend`: asked before an attempt that follows billed failed attempts. */
  beforeAttemptAfterSpend?: ((billed: Cost) => Promise<void> | void) | undefined;
}

function noop(): void {}

/**
 * How long a stream that holds an attempt waits for its consumer to ask for the next part when neither
 * `timeouts.consumerIdleMs` nor `timeouts.totalMs` is set.
 */
export const DEFAULT_CONSUMER_IDLE_MS = 60_000;

/** An attempt's timeouts as a stream reads them. */
export interface StreamTimeouts extends AttemptTimeouts {
  /**
   * How long the router waits for the consumer to ask for the next part before it abandons the stream
   * (0: never). Unset: `DEFAULT_CONSUMER_IDLE_MS`, unless `totalMs` bounds the attempt.
   */
  consumerIdleMs?: number | undefined;
}

/** The idle-consumer limit of a stream in ms, or undefined when there is none. */
export function consumerIdleLimit(t: StreamTimeouts): number | undefined {
  if (t.consumerIdleMs !== undefined) return t.consumerIdleMs > 0 ? t.consumerIdleMs : undefined;
  return t.totalMs !== undefined && t.totalMs > 0 ? undefined : DEFAULT_CONSUMER_IDLE_MS;
}

/** The idle limit is checked this many times per `consumerIdleMs`: a stream is abandoned 1 to 1.25 limits after its last part. */
const IDLE_CHECKS = 4;

/**
 * Watches the consumer of a stream while the stream holds an attempt (circuit permit, in-flight count,
 * concurrency slot). The stream marks when it hands a part over (`handing`) and when the consumer asks for
 * the next one (`resumed`). While the stream waits for its consumer, an abort of the attempt (its `totalMs`,
 * the caller's signal) or `consumerIdleMs` without a pull makes the watch give up on the consumer:
 * `abandoned` says why, and `onGiveUp` closes the stream. Time spent waiting for the upstream is never the
 * consumer's. No clock read and no timer work per part: a timer checks `IDLE_CHECKS` times per limit
 * whether a part was handed over since its last check.
 */
class ConsumerWatch {
  /** Why the router gave up on the consumer before the stream ended (handed out as the last part). */
  abandoned: LLMError | undefined;
  private delivered = false;
  private stopped = false;
  /** The stream waits for the consumer (false: it is producing a part). */
  private waiting = false;
  /** Parts handed over, and their count at the last check. */
  private handed = 0;
  private seen = -1;
  /** Consecutive checks that found the stream waiting with no part handed over. */
  private idleChecks = 0;
  private idleMs: number | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lease: AttemptLease | undefined;
  private totalMs: number | undefined;

  constructor(private readonly onGiveUp: () => void) {}

  /** The stream hands a part to the consumer and then waits for it. */
  handing(): void {
    this.handed++;
    this.waiting = true;
    // Aborted while the part was on its way: the consumer holds the attempt now.
    if (this.lease?.scope?.aborted) queueMicrotask(this.onAbort);
  }

  /** The consumer asked for the next part. */
  resumed(): void {
    this.waiting = false;
  }

  /** From now on the stream holds `lease` (until the stream ends). */
  hold(lease: AttemptLease, timeouts: StreamTimeouts): void {
    if (this.stopped) return;
    this.lease = lease;
    this.totalMs = timeouts.totalMs;
    lease.scope?.watchAbort(this.onAbort);
    this.idleMs = consumerIdleLimit(timeouts);
    if (this.idleMs !== undefined) this.schedule();
  }

  /** The error part to hand out once, after the router gave up on the consumer. */
  takeAbandoned(): LLMError | undefined {
    if (!this.abandoned || this.delivered) return undefined;
    this.delivered = true;
    return this.abandoned;
  }

  /** The stream ended or its consumer closed it: nothing more to watch. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.lease?.scope?.watchAbort(undefined);
  }

  private readonly onAbort = (): void => {
    const lease = this.lease;
    if (this.stopped || !this.waiting || !lease?.scope || lease.isSettled) return;
    const scope = lease.scope;
    const d = lease.deployment;
    // Our totalMs timer, else the caller's own abort. A timeout as when it fires while the upstream is awaited
    // (the consumer held the attempt that long, so it is no strike: see `settleAbandoned`).
    const error = scope.timeoutError
      ? new LLMError({
          code: 'timeout',
          message: `Timed out: the stream of "${d.name}" did not finish within totalMs (${this.totalMs ?? '?'} ms); it was abandoned while its consumer was not reading`,
          deployment: d.name,
          provider: d.provider,
        })
      : scope.errorFor(scope.signal.reason);
    this.giveUp(error);
  };

  private readonly check = (): void => {
    this.timer = undefined;
    if (this.stopped || this.idleMs === undefined) return;
    if (!this.waiting || this.handed !== this.seen) {
      this.seen = this.handed;
      this.idleChecks = 0;
    } else {
      this.idleChecks++;
    }
    if (this.idleChecks < IDLE_CHECKS) {
      this.schedule();
      return;
    }
    const lease = this.lease;
    // After the last part (the attempt settled) there is nothing to abandon: only end the stream.
    if (!lease || lease.isSettled) {
      this.giveUp(undefined);
      return;
    }
    this.giveUp(
      new LLMError({
        code: 'timeout',
        message: `Timed out: the stream was abandoned: its consumer did not ask for the next part within consumerIdleMs (${this.idleMs} ms)`,
        deployment: lease.deployment.name,
        provider: lease.deployment.provider,
      }),
    );
  };

  private schedule(): void {
    const t = setTimeout(this.check, timerDelay(Math.max(1, Math.ceil(this.idleMs! / IDLE_CHECKS))));
    // Never keeps a process alive on its own.
    (t as { unref?: () => void }).unref?.();
    this.timer = t;
  }

  private giveUp(error: LLMError | undefined): void {
    if (this.stopped) return;
    this.abandoned = error;
    this.stop();
    this.onGiveUp();
  }
}

/**
 * Settles the attempt of a stream its consumer abandoned: the caller's own abort as any caller abort
 * (never a strike), otherwise released (no health change) with the upstream request cancelled, and
 * recorded as an attempt failed with the request's code (`timeout`, or `aborted` for a close), with no strike.
 */
function settleAbandoned(lease: AttemptLease, plan: ExecutionPlan, error: LLMError, now: () => number): void {
  if (plan.signal?.aborted) {
    lease.fail(error);
    return;
  }
  lease.scope?.cancel();
  // The request's own code (`timeout` at totalMs or after consumerIdleMs, `aborted` for a consumer's close): its span and its attempt's agree.
  const record: AttemptRecord = { deployment: lease.deployment.name, attempt: lease.attempt, ok: false, errorCode: error.code, latencyMs: elapsedMs(lease.startedAt, now()) };
  if (lease.hedge) record.hedge = true;
  lease.release();
  plan.attempts.push(record);
}

/**
 * The `aborted` error of a stream its consumer cancelled or closed before its end: it names the deployment that
 * was answering, when one was (`lease`), as an engine's error does (the request's telemetry reads them).
 */
function consumerAbort(message: string, lease: AttemptLease | undefined, reason: unknown): LLMError {
  return new LLMError({
    code: 'aborted',
    message,
    ...(lease ? { deployment: lease.deployment.name, provider: lease.deployment.provider } : {}),
    ...(reason !== undefined ? { cause: reason } : {}),
  });
}

/** Replays a cached answer: the `route` part, then the cache's own replay (word-sized deltas, finish with the original usage). */
async function* replay(result: RouterResult): AsyncGenerator<RouterStreamPart> {
  yield {
    type: 'route',
    requestId: result.requestId,
    deployment: result.deployment,
    model: result.model,
    provider: result.provider,
    cached: result.cached,
    ...(result.cacheScore !== undefined ? { cacheScore: result.cacheScore } : {}),
  };
  yield* replayAsStream({ ...result, createdAt: 0 });
}

/** The live part of a stream (after the primed parts): what its hand-written loop reads and settles. */
interface LiveStream {
  deployment: RouterDeployment;
  scope: AttemptLease['scope'];
  lease: AttemptLease;
  iterator: AsyncIterator<StreamPart>;
  acc: StreamAccumulator;
  /** The attempt's scope, when each part must be raced against its abort (see `PrimedStream.endsOnAbort`). */
  race: AttemptLease['scope'];
  /** What `succeed` builds the result from (kept here, not in a closure of `runStream`: see `succeed`). */
  plan: ExecutionPlan;
  route: RoutePlan;
  ttftMs: number;
  attempts: PrimingAttempts;
}

/**
 * Settles a finished answer (the attempt, the cache, `.result`) before its `finish` part goes out. A module-level
 * function over the stream's state, not a closure made in `runStream`: such a closure keeps the generator's context,
 * and with it the finished generator and its registers, for as long as the stream lives.
 */
async function succeed(st: StreamState, live: LiveStream): Promise<void> {
  const { hooks } = st;
  const held = live.lease;
  // The hedge lanes the router cancelled when this one answered end first (at once): what they had reported is paid.
  const ending = live.attempts.ended();
  if (ending) await ending;
  let r: RouterResult;
  try {
    r = hooks.build(live.deployment, live.acc.result(), live.plan, live.route, live.ttftMs);
    // The prompts the attempts before it had reported were billed too, and those of the hedge lanes it won over.
    billFailedAttempts(r, live.attempts.paid);
  } catch (e) {
    held.release();
    throw e;
  }
  held.succeed(r.usage.totalTokens);
  // Stored before the finish part goes out, so a call right after the stream can hit it.
  await hooks.store(r);
  st.final = r;
  st.done = true;
  st.resolve(r);
}

/** The end result every finished pull shares (frozen: a consumer that writes to it changes no other stream's). */
const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * What a router stream's `runStream` shares with the rest of the stream (its loop, `settleStream`, `cancelStream`): one
 * object per stream, so that the generator and the loop's steps are module-level functions. An `async function*` made
 * per stream by a closure gets its own prototype object and hidden classes: 15-24% of a streamed request's CPU at 64 in
 * flight in the in-process benchmark (docs/benchmarks.md, twenty-second session); the loop's steps as closures made per
 * stream held about 1 KiB while the stream lived (twenty-third session).
 */
interface StreamState {
  readonly hooks: StreamHooks;
  readonly watch: ConsumerWatch;
  readonly resolve: (r: RouterResult) => void;
  readonly reject: (e: LLMError) => void;
  /** `receivedOrFailed` and `failLive` for this stream, made once (the loop hands them to each part's promise). */
  readonly onPart: (r: IteratorResult<StreamPart>) => IteratorResult<RouterStreamPart> | Promise<IteratorResult<RouterStreamPart>>;
  readonly onFail: (e: unknown) => IteratorResult<RouterStreamPart>;
  /** The stream was iterated (it can be only once). */
  consumed: boolean;
  /** The router reading the stream since `.result` was awaited before it was iterated (`drainUnread`); not on `.result`, so a kept `.result` holds neither this state nor the parts read. */
  drain?: Drain;
  /**
   * `runStream`'s generator (giving up on an idle consumer closes it there): dropped when a pull sees it end (it
   * handed the stream to the loop, or the stream ended in it: the iterator's `#handedOver`) and when the stream settles.
   */
  gen: AsyncGenerator<RouterStreamPart> | undefined;
  /** The loop's step in progress (later calls wait for it). */
  busy: Promise<IteratorResult<RouterStreamPart>> | undefined;
  settled: boolean;
  plan: ExecutionPlan | undefined;
  lease: AttemptLease | undefined;
  iterator: AsyncIterator<StreamPart> | undefined;
  done: boolean;
  error: LLMError | undefined;
  final: RouterResult | undefined;
  /** Set when `runStream` handed the stream to the hand-written loop. */
  live: LiveStream | undefined;
  /** The answer being streamed (set with its `route` part, before the loop takes it): what a failed stream had consumed. */
  answering: LiveStream | undefined;
  /** `cancel` was called (`runStream` stops at its next step, pulls get the end). */
  cancelled: boolean;
  /** The attempts before the first content part (what `cancel` stops then). */
  priming: PrimingAttempts | undefined;
  /** The same, kept after them: what those that failed had reported was paid (`spent`). */
  primed: PrimingAttempts | undefined;
  /** Ends `runStream`'s wait for a cache lookup or a plan (see `untilCancelled`); set only while it waits. */
  wake: (() => void) | undefined;
}

/**
 * Plans the request, wins an attempt and hands out the `route` and primed parts; then it hands the engine's iterator
 * to the stream's hand-written loop (`st.live`) and ends.
 */
async function* runStream(st: StreamState): AsyncGenerator<RouterStreamPart> {
  const { hooks } = st;
  const { host } = hooks;
  try {
    const lookup = hooks.cached();
    const hit = lookup && (await untilCancelled(st, lookup));
    if (st.cancelled) return;
    if (hit) {
      st.final = hit;
      st.done = true;
      st.resolve(hit);
      for await (const part of replay(hit)) {
        // The replay's last part: the stream settles as it goes out (see `handPart`).
        if (part.type === 'finish') settleStream(st);
        yield part;
      }
      return;
    }
    const planning = hooks.plan();
    const ready = planning instanceof Promise ? await untilCancelled(st, planning) : planning;
    if (st.cancelled || !ready) return;
    const { plan: planned, route } = ready;
    st.plan = planned;
    let won;
    const attempts = new PrimingAttempts(hooks.beforeAttemptAfterSpend);
    st.priming = st.primed = attempts;
    try {
      won = await runAttempts<PrimedStream>(host, planned, streamDriver(planned.request, hooks.headers, host, attempts, planned.tenant));
      // The lanes that answered in the same turn (discarded): billed as the lanes cancelled before their answer are.
      if (won.late) for (const { deployment, usage } of won.late) attempts.failedAfterUsage(deployment, usage);
    } catch (e) {
      st.priming = undefined;
      // The lanes the router cancelled as the call failed end first (at once): `spent()` has what they had reported.
      const ending = attempts.ended();
      if (ending) await ending;
      if (st.cancelled) return;
      st.error = toLLMError(e);
      st.done = true;
      // The last part: the stream settles as it goes out (see `handPart`).
      settleStream(st);
      yield { type: 'error', error: st.error };
      return;
    }
    st.priming = undefined;
    if (st.cancelled) {
      // Won as the stream was cancelled: the attempt is given up as a hedge that won too late.
      won.lease.scope?.cancel();
      closeQuietly(won.value.iterator);
      won.lease.release();
      return;
    }
    const held = won.lease;
    st.lease = held;
    st.iterator = won.value.iterator;
    const d = won.deployment;
    hooks.primed?.(d, route);
    st.watch.hold(held, planned.timeouts(d));
    const acc = new StreamAccumulator(hooks.estimatedInputTokens);
    const ttftMs = elapsedMs(hooks.startedAt, won.value.firstContentAt);
    const live: LiveStream = { deployment: d, scope: held.scope, race: won.value.endsOnAbort ? undefined : held.scope, lease: held, iterator: won.value.iterator, acc, plan: planned, route, ttftMs, attempts };
    st.answering = live;
    st.watch.handing();
    const routePart: Extract<RouterStreamPart, { type: 'route' }> = { type: 'route', requestId: hooks.requestId, deployment: d.name, model: d.modelId, provider: d.provider, cached: false };
    // The price it answers at: a stream cut short is billed at it, whatever the deployment's config says by then.
    if (d.price) routePart.price = d.price;
    yield routePart;
    st.watch.resumed();
    const buffered = won.value.buffered;
    for (let i = 0; i < buffered.length; i++) {
      const part = buffered[i]!;
      acc.add(part);
      if (part.type === 'finish') {
        await succeed(st, live);
        if (st.cancelled) return;
        // The last part (an answer the engine finished before its first content): settled as it goes out.
        settleStream(st);
        yield part;
        return;
      }
      st.watch.handing();
      yield part;
      st.watch.resumed();
    }
    if (won.value.finished) return;
    st.live = live;
  } catch (e) {
    // Planning failures (no deployment, bad strategy), an error thrown in by the consumer at a first part, and
    // anything unexpected: an error part. The attempt (if one was taken) is cancelled and its slot released,
    // and the stream settles now, not on a pull the consumer may never make.
    if (!st.done) {
      st.error = toLLMError(e);
      st.done = true;
      if (st.lease) {
        st.lease.scope?.cancel();
        st.lease.release();
      }
      settleStream(st);
      yield { type: 'error', error: st.error };
    }
  } finally {
    if (!st.live) settleStream(st);
  }
}

/**
 * `p`, or `undefined` as soon as the stream is cancelled (`p` goes on, what it gives is unused): a pull
 * waiting on a cache lookup or on planning (a semantic cache's or a strategy's embedding, a shared store)
 * gets the end at once. Used only where the wait is asynchronous, so a stream with neither pays nothing.
 */
function untilCancelled<T>(st: StreamState, p: Promise<T>): Promise<T | undefined> {
  return new Promise<T | undefined>((res, rej) => {
    st.wake = () => res(undefined);
    p.then(
      (value) => {
        st.wake = undefined;
        res(value);
      },
      (e: unknown) => {
        st.wake = undefined;
        rej(e as Error);
      },
    );
  });
}

/** `result.onAwait` (see `createRouterStream`): a stream not iterated yet is read by the router (`Drain`). */
function drainUnread(result: StreamResult<RouterResult, StreamState>): void {
  const st = result.owner!;
  // (Called once: `.result` keeps no reference to the stream's state from here on.)
  result.owner = undefined;
  if (st.consumed || st.settled) return;
  queueMicrotask(() => {
    if (st.consumed || st.settled) return;
    st.consumed = true;
    st.drain = new Drain(new RouterStreamIterator(st), () => cancelStream(st, undefined));
  });
}

/**
 * The router's stream: a `route` part, then the winning engine's parts. Failover happens only before
 * the first content part; after it an engine failure is forwarded as an `error` part and the stream
 * ends (never a silent clean end). `.result` settles when the stream ends; iterate it once. Awaiting `.result` before
 * iterating makes the router read the stream (`StreamResult`, `Drain`): it settles without an iteration.
 * An attempt that failed before its first content part after its engine reported usage (the prompt, as Anthropic's
 * `message_start` says it) was billed for it, a hedge lane cancelled because another answered too: `spent()` says what
 * those attempts cost, at their deployments' prices, and an answer a later attempt (or another lane) gives has it in
 * its cost (`failedAttemptsCost`, `failedAttemptsUsage`). Before each
 * attempt that follows such ones, `beforeAttemptAfterSpend` (when given) is asked with what they cost: a rejection ends
 * the stream with its error, and no further attempt is sent.
 * A consumer that stops pulling without `return()` does not keep the attempt: when its `totalMs` fires,
 * or after `consumerIdleMs` (1 to 1.25 times it) without a pull, the router cancels the upstream request,
 * frees the attempt as a caller abandonment (no strike) and `.result` rejects with `timeout` (as at totalMs
 * for a consumer that kept reading: a time limit fired, the caller did not abort); a consumer that comes
 * back gets that error as its last part.
 *
 * An async generator (`runStream`) plans the request, wins an attempt and hands out the `route` and primed parts;
 * then it hands the engine's iterator to a hand-written loop (`liveNext`), which forwards each later part
 * with one promise reaction instead of a generator round trip. The loop keeps the generator's semantics (calls are
 * served in order) but one: the stream settles (`settleStream`: `.result`, `request:end`, the call out of the router's
 * calls in flight and off the caller's signal) as its last part (`finish`, `error`) goes out, not on the pull after it
 * (a consumer may stop at the last part and never pull again), or on `return()`. As an async generator's, the
 * iterator's methods are called on it (one taken off it returns a rejected promise) and it is iterable itself; it
 * shows none of the stream's state (private fields).
 *
 * `cancel(reason)` ends the stream at once from outside its iteration (a pull may be waiting): the attempts
 * in flight are cancelled (before the first content: every attempt, hedges included; after it: the
 * answering one, recorded as an `aborted` attempt with no strike), `.result` rejects with `aborted` and
 * a waiting or later pull gets the end. A stream that has ended, or whose consumer closed it, ignores it.
 */
export function createRouterStream(hooks: StreamHooks): RouterStream {
  let resolve!: (r: RouterResult) => void;
  let reject!: (e: LLMError) => void;
  const result = new StreamResult<RouterResult, StreamState>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // An unobserved rejection must never crash the process.
  result.catch(noop);
  /** The stream's state that `runStream` shares with the loop, `settleStream` and `cancelStream`. */
  const st: StreamState = {
    hooks,
    // Giving up on an idle consumer closes the stream where it waits (at a part handed out): it settles.
    watch: new ConsumerWatch(() => giveUp(st)),
    resolve,
    reject,
    onPart: (r) => receivedOrFailed(st, r),
    onFail: (e) => failLive(st, e),
    consumed: false,
    gen: undefined,
    busy: undefined,
    settled: false,
    plan: undefined,
    lease: undefined,
    iterator: undefined,
    done: false,
    error: undefined,
    final: undefined,
    live: undefined,
    answering: undefined,
    cancelled: false,
    priming: undefined,
    primed: undefined,
    wake: undefined,
  };
  // `.result` awaited (a fulfilment handler attached) before the stream is iterated: once the current job is over (an
  // iteration started right after `.then` still gets the stream), the router reads the stream itself, so that
  // `.result` settles (and `request:end` follows `request:start`); an iterator asked for later gets the parts read.
  result.owner = st;
  result.onAwait = drainUnread;
  return {
    requestId: hooks.requestId,
    result,
    cancel: (reason?: unknown) => cancelStream(st, reason),
    spent: () => st.primed?.paid,
    [Symbol.asyncIterator](): AsyncIterator<RouterStreamPart> {
      // `.result` was awaited first and is reading the stream: this iterator takes over (the parts read so far first).
      const drain = st.drain;
      if (drain !== undefined && !drain.handed) {
        drain.handed = true;
        st.drain = undefined;
        return handOver(drain);
      }
      if (st.consumed) throw new LLMError({ code: 'invalid_request', message: 'A router stream can be iterated only once' });
      st.consumed = true;
      return new RouterStreamIterator(st);
    },
  };
}

/** The router gave up on an idle consumer: the stream is closed where it waits. */
function giveUp(st: StreamState): void {
  if (st.live) liveReturn(st, undefined).then(noop, noop);
  else st.gen?.return(undefined).then(noop, noop);
}

/** The end of the stream, once: the attempt released if nobody settled it, `.result` and the end event. */
function settleStream(st: StreamState): void {
  if (st.settled) return;
  st.settled = true;
  const { hooks, watch } = st;
  watch.stop();
  if (!st.done) {
    const abandoned = watch.abandoned;
    if (abandoned && st.lease && st.plan) {
      // The router gave up on a consumer that stopped reading (totalMs, consumerIdleMs, its own abort).
      settleAbandoned(st.lease, st.plan, abandoned, hooks.host.now);
      st.error = abandoned;
    } else {
      // The consumer stopped reading: cancel the upstream, the deployment did nothing wrong. The attempt that
      // was answering is recorded as `aborted` (telemetry's attempt count and child span), as when cancelled.
      st.error = consumerAbort('The stream was closed by its consumer before it ended', st.lease, undefined);
      if (st.lease && st.plan && !st.lease.isSettled) {
        settleAbandoned(st.lease, st.plan, st.error, hooks.host.now);
      } else {
        st.lease?.scope?.cancel();
        st.lease?.release();
      }
    }
  }
  closeQuietly(st.iterator);
  if (st.error) {
    st.reject(st.error);
    const live = st.answering;
    hooks.end(undefined, st.error, live && (() => answeredSpend(live)));
  } else if (st.final) {
    hooks.end(st.final, undefined);
  }
  // A consumer may keep the stream object long after its end (the gateway until its response is written):
  // let the attempt, the engine iterator and the parts folded so far go now (measured: less GC per stream).
  st.live = undefined;
  st.answering = undefined;
  st.iterator = undefined;
  st.lease = undefined;
  st.plan = undefined;
  st.gen = undefined;
}

/** What the partial answer of a failed stream consumed, at its deployment's price (undefined when nothing came). */
function answeredSpend(live: LiveStream): StreamSpend | undefined {
  const usage = live.acc.partialUsage(live.plan.request.maxTokens);
  return usage && { usage, cost: computeCost(usage, live.deployment.price), replay: false };
}

/** The step in progress ends the stream: it was cancelled while the step waited. */
function endedStep(st: StreamState): IteratorResult<RouterStreamPart> {
  st.busy = undefined;
  return DONE;
}

/**
 * Hands out `part`; `terminal`: the stream's last one (its `finish` or `error`), with which the stream settles: not on a
 * pull the consumer may never make (one that stops at the last part would keep the call in flight for `close()` and
 * on the caller's signal).
 */
function handPart(st: StreamState, part: RouterStreamPart, terminal: boolean): IteratorResult<RouterStreamPart> {
  // Cancelled while the part was on its way (a finish being settled): the stream is over.
  if (st.settled) return endedStep(st);
  st.busy = undefined;
  if (terminal) settleStream(st);
  else st.watch.handing();
  return { value: part, done: false };
}

/** After the first content there is no failover: the consumer sees the error as the last part. */
function failLive(st: StreamState, e: unknown): IteratorResult<RouterStreamPart> {
  if (st.settled) return endedStep(st);
  const { scope, deployment: d } = st.live!;
  st.error = scope ? scope.errorFor(e) : toLLMError(e, { deployment: d.name, provider: d.provider });
  st.live!.lease.fail(st.error);
  st.done = true;
  return handPart(st, { type: 'error', error: st.error }, true);
}

/** Settling a finished answer failed (its result could not be built): an error part, as anything unexpected. */
function unexpectedLive(st: StreamState, e: unknown): IteratorResult<RouterStreamPart> {
  if (st.settled) return endedStep(st);
  if (st.done) {
    st.busy = undefined;
    settleStream(st);
    return DONE;
  }
  st.error = toLLMError(e);
  st.done = true;
  return handPart(st, { type: 'error', error: st.error }, true);
}

function receivedLive(st: StreamState, r: IteratorResult<StreamPart>): IteratorResult<RouterStreamPart> | Promise<IteratorResult<RouterStreamPart>> {
  if (r.done) {
    const d = st.live!.deployment;
    return failLive(
      st,
      new LLMError({
        code: 'stream_interrupted',
        message: `The stream from "${d.name}" ended without a finish or error part`,
        deployment: d.name,
        provider: d.provider,
      }),
    );
  }
  const part = r.value;
  if (part.type === 'error') return failLive(st, part.error);
  st.live!.acc.add(part);
  if (part.type === 'finish') {
    return succeed(st, st.live!).then(
      () => handPart(st, part, true),
      (e: unknown) => unexpectedLive(st, e),
    );
  }
  return handPart(st, part, false);
}

function liveNext(st: StreamState): Promise<IteratorResult<RouterStreamPart>> {
  if (st.busy) return st.busy.then(() => liveNext(st));
  if (st.settled) return Promise.resolve(DONE);
  st.watch.resumed();
  const { race, iterator: engine } = st.live!;
  let pulled: Promise<IteratorResult<StreamPart>>;
  try {
    pulled = engine.next();
  } catch (e) {
    // A hand-written engine iterator whose `next()` throws instead of rejecting: an engine error as any other.
    pulled = Promise.reject(e as Error);
  }
  const step = (race ? race.race(pulled) : pulled).then(st.onPart, st.onFail);
  st.busy = step;
  return step;
}

/** `receivedLive`, with anything it throws (a malformed part from the engine) ending the stream as an engine error. */
function receivedOrFailed(st: StreamState, r: IteratorResult<StreamPart>): IteratorResult<RouterStreamPart> | Promise<IteratorResult<RouterStreamPart>> {
  // Cancelled while the engine was asked for this part (its iterator is closed): the stream is over.
  if (st.settled) return endedStep(st);
  try {
    return receivedLive(st, r);
  } catch (e) {
    return failLive(st, e);
  }
}

function liveReturn(st: StreamState, value: unknown): Promise<IteratorResult<RouterStreamPart>> {
  if (st.busy) return st.busy.then(() => liveReturn(st, value));
  settleStream(st);
  return Promise.resolve({ done: true, value: value as undefined });
}

function cancelStream(st: StreamState, reason: unknown): void {
  if (st.settled || st.cancelled) return;
  st.cancelled = true;
  st.watch.stop();
  // Before the first content: every attempt in flight (and any that would start), and a retry's backoff
  // wait, are cancelled; a cache lookup or a plan being made is no longer waited for.
  st.priming?.stop();
  st.priming = undefined;
  const w = st.wake;
  st.wake = undefined;
  w?.();
  if (!st.done) {
    st.error = consumerAbort('The stream was cancelled by its consumer', st.lease, reason);
    st.done = true;
    // The answering attempt (after the first content): cancelled, as for a consumer the router gave up on
    // (unless it already succeeded: a finish being settled).
    if (st.lease && st.plan && !st.lease.isSettled) settleAbandoned(st.lease, st.plan, st.error, st.hooks.host.now);
  }
  settleStream(st);
}

function liveThrow(st: StreamState, e: unknown): Promise<IteratorResult<RouterStreamPart>> {
  if (st.busy) return st.busy.then(() => liveThrow(st, e));
  if (st.settled) return Promise.reject(e as Error);
  // An error thrown in by the consumer: an error part, then the end. The consumer gave up, so the upstream
  // is cancelled and the attempt's slot released as for return() (the deployment did nothing wrong).
  st.error = toLLMError(e);
  st.done = true;
  st.live!.lease.scope?.cancel();
  st.live!.lease.release();
  // Settled with it (`.result`, `request:end`, the engine iterator closed): the consumer may never pull again.
  return Promise.resolve(handPart(st, { type: 'error', error: st.error }, true));
}

/** A method of a router stream's iterator called on anything but the iterator: a rejection, as an async generator's. */
function notTheIterator(method: string): Promise<never> {
  return Promise.reject(
    new TypeError(`The router stream iterator's ${method}() was called on something else (taken off the iterator?): call it on the iterator, as an async generator's`),
  );
}

/**
 * The iterator of a router stream: `runStream` until it hands the stream to the loop, then the loop. Its state is in
 * private fields: `util.inspect`, a logger walking objects and `JSON.stringify` see none of it (it reaches the request
 * and the deployments' configuration). Its methods are called on it, as an async generator's (they are on the
 * prototype, none is made per stream): one taken off it (`const { next } = it`) or called on another object returns
 * a promise rejected with a `TypeError`, and a copy (`{ ...it }`) has none.
 */
class RouterStreamIterator implements AsyncIterator<RouterStreamPart> {
  readonly #st: StreamState;
  #started = false;
  /** `runStream`'s generator, dropped once a call saw it end or closed it (a finished generator keeps its registers). */
  #g: AsyncGenerator<RouterStreamPart> | undefined;

  constructor(st: StreamState) {
    this.#st = st;
    this.#g = st.gen = runStream(st);
  }

  /** `x` is a router stream's iterator (a method was called on one). */
  static #is(x: unknown): x is RouterStreamIterator {
    return typeof x === 'object' && x !== null && #st in x;
  }

  next(): Promise<IteratorResult<RouterStreamPart>> {
    if (!RouterStreamIterator.#is(this)) return notTheIterator('next');
    const st = this.#st;
    const g = this.#g;
    this.#started = true;
    // Cancelled: `runStream` stops at its next step (a pull waiting there gets the end).
    if (st.cancelled) return g ? g.return(undefined) : Promise.resolve(DONE);
    // The router gave up on this consumer: it learns why, then the stream is over (never a silent end).
    const error = st.watch.takeAbandoned();
    if (error) return Promise.resolve({ value: { type: 'error', error }, done: false });
    // Until a call saw `runStream` end, calls go to it, even once it handed the stream to the loop (`st.live`): it
    // serves them in order, and those made while the one that ends it is in flight reach the loop after that one.
    return g ? g.next().then((r) => this.#handedOver(r)) : liveNext(st);
  }

  return(value?: unknown): Promise<IteratorResult<RouterStreamPart>> {
    if (!RouterStreamIterator.#is(this)) return notTheIterator('return');
    const st = this.#st;
    const g = this.#g;
    st.watch.stop();
    this.#closeUnstarted();
    if (!g) return st.live ? liveReturn(st, value) : Promise.resolve({ done: true, value: value as undefined });
    // `runStream` has no `yield` in its `finally`: it is over once this settles.
    return g.return(value as undefined).then((r) => {
      this.#g = undefined;
      return st.live ? liveReturn(st, value) : r;
    });
  }

  throw(e?: unknown): Promise<IteratorResult<RouterStreamPart>> {
    if (!RouterStreamIterator.#is(this)) return notTheIterator('throw');
    const st = this.#st;
    const g = this.#g;
    st.watch.stop();
    this.#closeUnstarted();
    if (!g) return st.live ? liveThrow(st, e) : Promise.reject(e as Error);
    return g.throw(e).then(undefined, (x: unknown) => {
      // Thrown back out: `runStream` is over (a throw it catches comes back as an error part, not here).
      this.#g = undefined;
      return st.live ? liveThrow(st, e) : Promise.reject(x as Error);
    });
  }

  /** An async iterator is iterable (as an async generator is): `for await` over the iterator itself. */
  [Symbol.asyncIterator](): this {
    return this;
  }

  /**
   * A part of `runStream`'s, or its end: then it is dropped, and either the stream settled there or it was handed to
   * the loop, which serves this call.
   */
  #handedOver(r: IteratorResult<RouterStreamPart>): IteratorResult<RouterStreamPart> | Promise<IteratorResult<RouterStreamPart>> {
    if (!r.done) return r;
    const st = this.#st;
    this.#g = st.gen = undefined;
    return st.live ? liveNext(st) : r;
  }

  /**
   * A generator closed before its first `next()` never runs its body (nor its `finally`): settle `.result` and end
   * the request here, or both would wait forever.
   */
  #closeUnstarted(): void {
    const st = this.#st;
    if (this.#started || st.settled) return;
    this.#started = true;
    st.settled = true;
    const error = new LLMError({ code: 'aborted', message: 'The stream was closed by its consumer before it started' });
    st.reject(error);
    st.hooks.end(undefined, error);
  }
}
