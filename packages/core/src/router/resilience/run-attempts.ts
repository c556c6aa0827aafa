import type { HedgingConfig, RetryConfig } from '../../config/schema.js';
import { LLMError } from '../../errors/llm-error.js';
import { abortError, toLLMError } from '../../errors/to-llm-error.js';
import { AttemptSignal, anySignal, raceAbort, releasesAbortListeners, takesAttemptSignals } from '../../util/abort.js';
import type { TypedEmitter } from '../../events/typed-emitter.js';
import type { GenerateRequest, LanguageEngine, Usage } from '../../spec/index.js';
import { deploymentLimitError, laterError } from '../deployment-limiter.js';
import { elapsedMs } from '../elapsed-ms.js';
import type { RouterDeployment } from '../deployment.js';
import { engineRefusal } from '../engine-refusal.js';
import { withRefusedAnswers } from '../refused-answer.js';
import { ownModelError } from '../unservable-own-model.js';
import type { AttemptRecord, RouterEvents } from '../types.js';
import { AttemptScope, CANCELLED, LinkedController, type AttemptTimeouts } from './attempt-scope.js';
import { retryPlan } from './backoff.js';
import { isPending, type CircuitPermit } from './circuit-state-store.js';
import { countsAgainstDeployment, failureAction, fitsLargerContext } from './classify.js';

export interface ExecutionHost {
  now(): number;
  random(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  readonly emitter: TypedEmitter<RouterEvents>;
}

export interface ExecutionPlan {
  requestId: string;
  /** The request as every attempt sends it (`maxTokens` clamped per deployment to its `maxOutputTokens`). */
  request: GenerateRequest;
  /** Prompt token estimate: what a deployment's tpm limit is charged at admission, with the expected output. */
  estimatedInputTokens: number;
  /** Deployments in the order they are tried (ranked candidates, then fallbacks). */
  order: readonly RouterDeployment[];
  /** Admitted even with an open circuit (every candidate was open). */
  forced: RouterDeployment | undefined;
  retry: RetryConfig;
  hedging: HedgingConfig;
  timeouts(d: RouterDeployment): AttemptTimeouts;
  /**
   * The caller's signal (the router's own for each call: it follows the caller's, and `close()` aborts it with
   * `shutting_down`): its abort stops everything with `aborted` (or the error it aborts with).
   */
  signal: AbortSignal | undefined;
  /**
   * `signal` is the router's own, the caller gave none: it aborts only when `close()` ends the call, and needs no abort
   * scope per attempt. Such an attempt (no timeout, not a hedge lane) hands the engine no signal, as it did before the
   * router had one (an engine that takes the router's signal, `TAKES_ATTEMPT_SIGNALS`, gets it: `sharesCallerSignal`),
   * and is raced against it: `close()` ends the call at once, the engine's request is abandoned.
   */
  ownSignal?: boolean;
  /** An embed call: its `request` is made up (one user message per input), no engine's `refusal` is asked of it. */
  embed?: boolean;
  /** Create an abort scope for every attempt (streams); otherwise only when a signal or timeout needs one. */
  alwaysScope: boolean;
  /** Filled as attempts end. */
  attempts: AttemptRecord[];
  /**
   * The call's tenant (its `tenant`, else a v3 config's `defaultTenant`): deployments on the operator's account get its end-user ids and
   * prompt-cache key scoped to it (`RouterDeployment.requestFor`). Undefined: sent as they are.
   */
  tenant?: string | undefined;
}

/** How one attempt is run: `generate` resolves with the answer, `stream` with a stream primed up to its first content. */
export interface AttemptDriver<T> {
  /**
   * `scope`: the attempt's abort scope, when it has one. `shared`: the caller's signal, when the attempt has no scope
   * because it needs no signal of its own (see `sharesCallerSignal`): the engine gets it as it is.
   */
  run(d: RouterDeployment, scope: AttemptScope | undefined, shared?: AbortSignal): Promise<T>;
  /** The driver hands `shared` to the engine's `generate` (the only call `RELEASES_ABORT_LISTENERS` speaks for). */
  readonly takesSharedSignal?: boolean;
  /**
   * The driver hands the scope's signal only to the engine's call (`stream`): a scope on a deployment whose engine takes
   * an `AttemptSignal` (`TAKES_ATTEMPT_SIGNALS`) gets one instead of an `AbortController`'s signal.
   */
  readonly takesAttemptSignals?: boolean;
  /** Frees a value that won too late (a hedged attempt that finished after the winner). */
  discard?(value: T): void;
  /**
   * The usage a value that won too late (a hedged attempt whose answer came before the router could cancel it, after
   * the winner's) was billed for, as its provider reported it: the call's spend too (`Won.late`). Present: a hedged
   * call resolves once its other lanes, cancelled by the win, have ended (at once: their attempts race the abort), so
   * that their late answers, and their answers refused after their response (`Won.lost`), are known.
   */
  billedUsage?(value: T): Usage | undefined;
  /**
   * Waits `ms` before a retry as `host.sleep(ms, parent)` does (used instead of it when present): a driver whose
   * attempts can be stopped from outside (a router stream's `cancel`) ends the wait then too, by rejecting.
   */
  backoff?(ms: number, parent: AbortSignal | undefined): Promise<void>;
  /**
   * Asked before each attempt (before its deployment's limits and circuit): a promise to wait for when the attempt
   * must be admitted first (a stream after billed failed attempts: `GenerateOptions.beforeAttemptAfterSpend`),
   * else undefined. A rejection ends the call with its error: no attempt is sent.
   */
  admit?(): Promise<void> | undefined;
  /**
   * Told of each attempt that failed (as the call reports it), before the call retries, falls over or fails: a driver
   * that bills failed attempts reads what the error says its provider billed (`REPORTED_USAGE`).
   */
  failed?(d: RouterDeployment, error: LLMError): void;
}

/**
 * The bookkeeping of an attempt that produced its answer (or first token): whoever consumes it
 * settles it exactly once, with `succeed`, `fail` or `release`.
 */
export class AttemptLease {
  private settled = false;
  private cleanup: (() => void) | undefined;

  constructor(
    private readonly host: ExecutionHost,
    private readonly plan: ExecutionPlan,
    readonly deployment: RouterDeployment,
    readonly scope: AttemptScope | undefined,
    readonly startedAt: number,
    readonly attempt: number,
    readonly hedge: boolean,
    /** Tokens charged to the deployment's tpm limit at admission (0 without limits). */
    readonly charged: number,
    /** What the deployment's circuit admitted the attempt with. */
    readonly permit: CircuitPermit,
  ) {}

  /** Runs `fn` once the lease is settled (e.g. unhook a hedge lane from the caller's signal). */
  onSettle(fn: () => void): void {
    if (this.settled) fn();
    else this.cleanup = fn;
  }

  get isSettled(): boolean {
    return this.settled;
  }

  /** The attempt answered; `totalTokens` (its real usage) corrects the tpm charge of a limited deployment. */
  succeed(totalTokens?: number): number {
    const latencyMs = elapsedMs(this.startedAt, this.host.now());
    if (this.settled) return latencyMs;
    this.settled = true;
    this.runCleanup();
    this.deployment.limiter?.release(this.charged, totalTokens);
    this.deployment.stats.success(latencyMs);
    this.deployment.breaker.success(this.permit);
    this.scope?.dispose();
    this.record(true, undefined, latencyMs);
    return latencyMs;
  }

  fail(error: LLMError): void {
    if (this.settled) return;
    this.settled = true;
    this.runCleanup();
    settleFailure(this.host, this.plan, this.deployment, error, this.scope, this.startedAt, this.attempt, this.hedge, this.charged, this.permit);
  }

  /** Ended by the router or consumer, not by the deployment: no health change. */
  release(): void {
    if (this.settled) return;
    this.settled = true;
    this.runCleanup();
    this.deployment.limiter?.release(this.charged);
    this.deployment.stats.failure('aborted', false);
    this.deployment.breaker.release(this.permit);
    this.scope?.dispose();
  }

  private runCleanup(): void {
    const fn = this.cleanup;
    this.cleanup = undefined;
    fn?.();
  }

  private record(ok: boolean, errorCode: string | undefined, latencyMs: number): void {
    const r: AttemptRecord = { deployment: this.deployment.name, attempt: this.attempt, ok, latencyMs };
    if (errorCode) r.errorCode = errorCode;
    if (this.hedge) r.hedge = true;
    this.plan.attempts.push(r);
  }
}

function settleFailure(
  host: ExecutionHost,
  plan: ExecutionPlan,
  d: RouterDeployment,
  error: LLMError,
  scope: AttemptScope | undefined,
  startedAt: number,
  attempt: number,
  hedge: boolean,
  charged: number,
  permit: CircuitPermit,
): void {
  // A failed attempt keeps its tpm charge: its real usage is unknown, and failures (429s above all)
  // are exactly when the deployment should be asked less.
  d.limiter?.release(charged);
  const callerGone = plan.signal?.aborted === true;
  const cancelled = scope?.cancelled === true && !callerGone;
  // The caller's own abort or deadline (`AbortSignal.timeout`) says nothing about the deployment's health, nor
  // does a failure before the engine asked the provider (a timeout while it downloads the prompt's image URLs).
  // Nor does the failure of an engine the router closed under the attempt (its deployment retired meanwhile).
  const counts = !cancelled && !callerGone && scope?.beforeProviderRequest !== true && !d.retired && countsAgainstDeployment(error);
  d.stats.failure(error.code, counts);
  if (counts) d.breaker.failure(permit);
  else d.breaker.release(permit);
  scope?.dispose();
  if (cancelled) return;
  const r: AttemptRecord = { deployment: d.name, attempt, ok: false, errorCode: error.code, latencyMs: elapsedMs(startedAt, host.now()) };
  if (hedge) r.hedge = true;
  if (counts) r.strike = true;
  plan.attempts.push(r);
  if (host.emitter.has('attempt:error')) host.emitter.emit('attempt:error', { requestId: plan.requestId, deployment: d.name, attempt, error });
}

export interface Won<T> {
  deployment: RouterDeployment;
  value: T;
  lease: AttemptLease;
  /**
   * A hedged call's answers lost on its other lanes before this one won (`afterResponse` errors: their providers may
   * have billed them, as a refused embedding answer says, `REFUSED_ANSWER`). Absent when none was.
   */
  lost?: LLMError[];
  /**
   * A hedged call's answers that other lanes completed after this one won, before the router could cancel them
   * (their providers billed them): each with its deployment and the usage it reported (`AttemptDriver.billedUsage`;
   * only for such a driver). Absent when none was. A lane cancelled in time answered nothing, and its usage is unknown.
   */
  late?: LateAnswer[];
}

/** See `Won.late`. */
export interface LateAnswer {
  deployment: RouterDeployment;
  usage: Usage;
}

type Outcome<T> = { kind: 'won'; won: Won<T> } | { kind: 'stop' | 'next'; error: LLMError } | { kind: 'cancelled' };

/**
 * The deployment was retired (its engine closed: `unload`, replaced, a tenant's changed or dropped own model) after the
 * call planned it: no request; the call moves on (a 503 clients retry when nothing else answered).
 */
function retiredError(d: RouterDeployment): LLMError {
  // Retryable (unlike a call no deployment can serve): a retry plans afresh, on the deployments the router has now.
  return new LLMError({ code: 'no_deployment', message: `Deployment "${d.name}" was removed after the call planned it`, deployment: d.name, provider: d.provider, isRetryable: true });
}

function circuitOpenError(d: RouterDeployment): LLMError {
  return new LLMError({ code: 'circuit_open', message: `Circuit of "${d.name}" is open`, deployment: d.name, provider: d.provider });
}

/** Set by a hedged call once an answer was lost after its provider accepted it: no new request goes out. */
interface SendGate {
  closed: boolean;
  /** Aborts when the gate closes: a lane sleeping before a retry wakes (it may send nothing more). */
  readonly signal: AbortSignal;
}

/**
 * One deployment with its retries (backoff with jitter, Retry-After), inside `parent` (caller or hedge lane);
 * no retry once `gate` is closed.
 */
async function runDeployment<T>(
  host: ExecutionHost,
  plan: ExecutionPlan,
  driver: AttemptDriver<T>,
  d: RouterDeployment,
  parent: AbortSignal | undefined,
  hedge: boolean,
  gate?: SendGate,
): Promise<Outcome<T>> {
  const force = plan.forced === d;
  const timeouts = plan.timeouts(d);
  const timed = timeouts.firstTokenMs !== undefined || timeouts.totalMs !== undefined;
  // The router's own signal alone (`ownSignal`): no scope for it, the attempt is raced against it (see `ownSignal`).
  const ownOnly = plan.ownSignal === true && parent !== undefined && parent === plan.signal;
  const needScope = plan.alwaysScope || (parent !== undefined && !ownOnly) || timed;
  // What the engine refuses before sending anything (`LanguageEngineV1.refusal`: an author name OpenAI refuses): no
  // request, so nothing charged against the deployment's limits (a shared deployment is not filled by one client's bad
  // requests), no health change; the next deployment is tried, and the refusal is the call's error when none answers.
  // Not for an embed call (its plan request is no chat request). The plan left out the candidates that refuse
  // whose engine existed (`plannedRefusal`); one not created yet, or a fallback, is asked only here, when reached (its
  // engine is created only then).
  const { refusal, created } = plan.embed === true ? {} : engineRefusal(d, plan.request);
  if (refusal !== undefined) {
    // Recorded (no latency, no strike, `skipped`: no request sent), so that the result's attempts say why the
    // deployment in `order` was skipped.
    const r: AttemptRecord = { deployment: d.name, attempt: 1, ok: false, errorCode: 'unsupported', latencyMs: 0, skipped: true };
    if (hedge) r.hedge = true;
    plan.attempts.push(r);
    return { kind: 'next', error: new LLMError({ code: 'unsupported', message: refusal.message, param: refusal.param, deployment: d.name, provider: d.provider }) };
  }
  /** The engine's creation failed above: the first attempt fails with its error, as `driver.run` would have thrown it. */
  let creationFailed = created !== undefined;
  /** This deployment's error of the previous attempt: what the call reports, not a `circuit_open` it caused. */
  let failed: LLMError | undefined;
  for (let attempt = 1; ; attempt++) {
    if (plan.signal?.aborted) return { kind: 'stop', error: abortError(plan.signal, { deployment: d.name }) };
    if (parent?.aborted || gate?.closed) return { kind: 'cancelled' };
    if (d.retired) return { kind: 'next', error: retiredError(d) };
    const admitting = driver.admit?.();
    if (admitting) {
      try {
        // The caller's abort (or a hedge sibling's win) ends the wait; the admission itself goes on and settles.
        await raceAbort(raceAbort(admitting, plan.signal), parent);
      } catch (e) {
        if (plan.signal?.aborted) return { kind: 'stop', error: abortError(plan.signal, { deployment: d.name }) };
        if (parent?.aborted) return { kind: 'cancelled' };
        return { kind: 'stop', error: toLLMError(e) };
      }
      if (plan.signal?.aborted) return { kind: 'stop', error: abortError(plan.signal, { deployment: d.name }) };
      if (parent?.aborted || gate?.closed) return { kind: 'cancelled' };
    }
    // A deployment at its limits is skipped (no request is sent); the next one in the order is tried.
    const limiter = d.limiter;
    let charged = 0;
    if (limiter !== undefined) {
      charged = d.admissionTokens(plan.estimatedInputTokens, plan.request.maxTokens);
      const full = limiter.check(charged, d.stats.latencyMs);
      if (full !== undefined) return { kind: 'next', error: deploymentLimitError(d.name, d.provider, full, d.tenant) };
    }
    let admitted = d.breaker.acquire(force);
    if (isPending(admitted)) {
      // A shared circuit store: one round trip; then the call may have been aborted, or the limits filled. The caller's
      // abort (or a hedge sibling's win: `parent` follows the caller's signal) ends the wait, as for `driver.admit`;
      // a permit that comes after it is given back. (A hedged call's winner waits for its other lanes to end.)
      const pending = admitted.catch(() => undefined);
      try {
        admitted = await raceAbort(pending, parent);
      } catch {
        void pending.then((p) => p && d.breaker.release(p));
        if (plan.signal?.aborted) return { kind: 'stop', error: abortError(plan.signal, { deployment: d.name }) };
        return { kind: 'cancelled' };
      }
      const full = admitted && limiter !== undefined ? limiter.check(charged, d.stats.latencyMs) : undefined;
      if (admitted && (full !== undefined || plan.signal?.aborted || parent?.aborted || gate?.closed)) d.breaker.release(admitted);
      if (plan.signal?.aborted) return { kind: 'stop', error: abortError(plan.signal, { deployment: d.name }) };
      if (parent?.aborted || gate?.closed) return { kind: 'cancelled' };
      if (full !== undefined) return { kind: 'next', error: deploymentLimitError(d.name, d.provider, full, d.tenant) };
    }
    // (After a failure here, the circuit it opened, or another call's, is no news: the caller hears the failure.)
    if (admitted === undefined) return { kind: 'next', error: failed ?? circuitOpenError(d) };
    const permit = admitted;
    limiter?.take(charged);
    // The caller's own signal, handed to the engine as it is (no scope), where a scope would only mirror it.
    const shared = (needScope || ownOnly) && !timed && !plan.alwaysScope && parent !== undefined && parent === plan.signal && driver.takesSharedSignal === true && sharesCallerSignal(d, parent) ? parent : undefined;
    const scope = needScope && shared === undefined ? new AttemptScope(parent, timeouts, { deployment: d.name, provider: d.provider }, plan.signal, driver.takesAttemptSignals === true && engineTakesAttemptSignals(d)) : undefined;
    const startedAt = host.now();
    d.stats.start();
    let error: LLMError;
    try {
      let running: Promise<T>;
      if (creationFailed) {
        creationFailed = false;
        running = Promise.reject(created);
      } else running = driver.run(d, scope, shared);
      const value = await (ownOnly && scope === undefined && shared === undefined ? raceAbort(running, parent) : running);
      return { kind: 'won', won: { deployment: d, value, lease: new AttemptLease(host, plan, d, scope, startedAt, attempt, hedge, charged, permit) } };
    } catch (e) {
      // (As the scope's `errorFor` maps it: the caller's abort first, whatever the engine made of it.)
      error = ownModelError(scope ? scope.errorFor(e) : (shared ?? (ownOnly ? parent : undefined))?.aborted ? abortError(parent!, { deployment: d.name, provider: d.provider }) : toError(e, d), d);
      const cancelled = scope?.cancelled === true && !plan.signal?.aborted;
      driver.failed?.(d, error);
      settleFailure(host, plan, d, error, scope, startedAt, attempt, hedge, charged, permit);
      if (cancelled) return { kind: 'cancelled' };
      // The caller gave up (its abort, or its deadline as a `timeout`): no retry, no fallback.
      if (plan.signal?.aborted) return { kind: 'stop', error };
    }
    // Retired while its admission was awaited: the engine was closed under the attempt (its error says shutting down).
    if (d.retired) return { kind: 'next', error: retiredError(d) };
    const action = failureAction(error);
    if (action === 'stop') return { kind: 'stop', error };
    if (action === 'next' || attempt > plan.retry.max || gate?.closed) return { kind: 'next', error };
    failed = error;
    const rp = retryPlan(error, attempt - 1, plan.retry, host.random);
    // Retry-After beyond maxRetryAfterMs: waiting is worse than trying the next deployment.
    if (rp.kind === 'move-on') return { kind: 'next', error };
    // A hedge lane also wakes when the gate closes (another lane's answer was lost): it would send nothing more.
    const wake = gate ? anySignal([parent, gate.signal]) : parent;
    let delayMs = rp.delayMs;
    if (!force) {
      // A shared circuit store answers the failure's report later: its answer says whether the failure opened the
      // circuit (a guess from the last answer misses successes applied since). Waited for within the retry wait (and
      // the store's own timeout: `failureAnswered`).
      const answering = d.breaker.failureAnswered?.();
      if (answering !== undefined) {
        const from = host.now();
        try {
          await raceAbort(within(answering, delayMs), wake);
        } catch {
          return endedWait(plan, d, parent, gate, error);
        }
        delayMs = Math.max(0, delayMs - elapsedMs(from, host.now()));
      }
      // The failure opened the circuit (or another call did meanwhile), and the wait ends before its cooldown does:
      // the retry would be refused, so no wait for it. A wait that ends later retries as a half-open probe. A
      // deployment tried although open (`forced`: nothing else can serve) is retried as planned.
      if (delayMs < (d.breaker.reopensInMs?.() ?? 0)) return { kind: 'next', error };
    }
    if (host.emitter.has('retry')) {
      host.emitter.emit('retry', { requestId: plan.requestId, deployment: d.name, attempt: attempt + 1, delayMs, error });
    }
    try {
      await (driver.backoff ? driver.backoff(delayMs, wake) : host.sleep(delayMs, wake));
    } catch {
      return endedWait(plan, d, parent, gate, error);
    }
  }
}

/** A retry wait that ended early: the caller's abort, the gate closing (a hedge lane moves on), or a cancelled lane. */
function endedWait<T>(plan: ExecutionPlan, d: RouterDeployment, parent: AbortSignal | undefined, gate: SendGate | undefined, error: LLMError): Outcome<T> {
  if (plan.signal?.aborted) return { kind: 'stop', error: abortError(plan.signal, { deployment: d.name }) };
  if (gate?.closed && !parent?.aborted) return { kind: 'next', error };
  return { kind: 'cancelled' };
}

/** Resolves when `p` settles or `ms` have passed, whichever comes first. */
function within(p: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([p, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]).finally(() => clearTimeout(timer));
}

/**
 * Whether an attempt on `d` may hand its engine the caller's signal itself instead of a scope's linked one, when the
 * scope would only mirror that signal (no timeout, not a hedge lane, a `generate`): the engine, created already (it
 * is not created here), says it releases its abort listeners, and does not report its provider request (which a
 * scope records). The scope's race against the abort is not needed then: such an engine settles when the signal
 * aborts, and a failure after the caller's abort is mapped as the scope maps it (`aborted`). An `AttemptSignal` (the
 * router's call signal) only to an engine that takes one (`TAKES_ATTEMPT_SIGNALS`).
 */
function sharesCallerSignal(d: RouterDeployment, signal: AbortSignal): boolean {
  if (!d.engineCreated) return false;
  const engine = d.engine();
  return engine.reportsProviderRequest !== true && releasesAbortListeners(engine) && (!(signal instanceof AttemptSignal) || takesAttemptSignals(engine));
}

/** Whether `d`'s engine, created already (it is not created here), takes an `AttemptSignal` (`TAKES_ATTEMPT_SIGNALS`). */
function engineTakesAttemptSignals(d: RouterDeployment): boolean {
  return d.engineCreated && takesAttemptSignals(d.engine());
}

/** The error of an attempt that needed no scope (no signal, no timeout): the engine's, tagged with the deployment. */
function toError(e: unknown, d: RouterDeployment): LLMError {
  return toLLMError(e, { deployment: d.name, provider: d.provider });
}

function emitFallback(host: ExecutionHost, plan: ExecutionPlan, from: RouterDeployment, to: RouterDeployment, error: LLMError): void {
  if (host.emitter.has('fallback')) host.emitter.emit('fallback', { requestId: plan.requestId, from: from.name, to: to.name, error });
}

/**
 * Walks the plan's order: each deployment with its retries; a failure that is not the request's
 * fault falls over to the next (`context_length_exceeded` only to one with a larger or unknown context window; the
 * call fails with it when none is left). With hedging on, a second lane starts on the next deployment when
 * the first has not answered after `hedging.delayMs`; the first answer wins and the others are cancelled.
 * An answer lost after its provider accepted it (`afterResponse`: it may be billed) is never requested again:
 * no retry, no fallback, no new hedge; but a hedge lane already waiting on another deployment may still answer
 * (the call fails with the lost answer's error when none does).
 */
export function runAttempts<T>(host: ExecutionHost, plan: ExecutionPlan, driver: AttemptDriver<T>): Promise<Won<T>> {
  if (plan.hedging.enabled && plan.order.length > 1) return runHedged(host, plan, driver);
  return runSequential(host, plan, driver);
}

/**
 * The deployments of an order that a call may still fall over to once the prompt overflowed a context window:
 * after `context_length_exceeded`, only those with a larger (or unknown) one; the others would refuse it too.
 */
class ContextOverflow {
  /** The largest known context window the prompt overflowed (undefined: none known yet). */
  private overflowed: number | undefined;
  private seen = false;

  note(d: RouterDeployment, error: LLMError): void {
    if (error.code !== 'context_length_exceeded') return;
    this.seen = true;
    const w = d.config.contextWindow;
    if (w !== undefined && (this.overflowed === undefined || w > this.overflowed)) this.overflowed = w;
  }

  /** The index of the first deployment from `i` on that may take the prompt (`order.length` when none). */
  nextFrom(order: readonly RouterDeployment[], i: number): number {
    if (this.seen) while (i < order.length && !fitsLargerContext(order[i]!.config.contextWindow, this.overflowed)) i++;
    return i;
  }
}

async function runSequential<T>(host: ExecutionHost, plan: ExecutionPlan, driver: AttemptDriver<T>): Promise<Won<T>> {
  const order = plan.order;
  const overflow = new ContextOverflow();
  let last: LLMError | undefined;
  for (let i = 0; i < order.length; i = overflow.nextFrom(order, i + 1)) {
    const d = order[i]!;
    const out = await runDeployment(host, plan, driver, d, plan.signal, false);
    if (out.kind === 'won') return out.won;
    if (out.kind === 'cancelled') throw abortError(plan.signal ?? AbortSignal.abort(), { deployment: d.name });
    if (out.kind === 'stop') throw out.error;
    last = laterError(last, out.error);
    overflow.note(d, out.error);
    const next = order[overflow.nextFrom(order, i + 1)];
    if (next) emitFallback(host, plan, d, next, out.error);
  }
  throw last ?? new LLMError({ code: 'no_deployment', message: 'No deployment to try' });
}

function runHedged<T>(host: ExecutionHost, plan: ExecutionPlan, driver: AttemptDriver<T>): Promise<Won<T>> {
  return new Promise<Won<T>>((resolve, reject) => {
    const order = plan.order;
    const lanes: LinkedController[] = [];
    const hedgeTimer = new AbortController();
    let next = 0;
    let active = 0;
    let hedges = 0;
    let settled = false;
    let last: LLMError | undefined;
    const overflow = new ContextOverflow();
    /** The error of an answer lost after its provider accepted it; once set, no new request goes out. */
    let lost: LLMError | undefined;
    /** The answers lost after it on other lanes (their refused answers were billed too: `withRefusedAnswers`). */
    let lostAfter: LLMError[] | undefined;
    const lostError = (): LLMError | undefined => (lost && lostAfter ? withRefusedAnswers(lost, lostAfter, order) : lost);
    const closing = new AbortController();
    const gate: SendGate = { closed: false, signal: closing.signal };
    /** Every lane's run (see `AttemptDriver.billedUsage`: the winner waits for them). */
    const running: Promise<void>[] = [];
    /** After the win: the answers other lanes completed (`Won.late`) and lost after their response (`Won.lost`). */
    let late: LateAnswer[] | undefined;
    let lostLate: LLMError[] | undefined;
    const start = (d: RouterDeployment, hedge: boolean) => {
      running.push(lane(d, hedge));
    };
    /** Resolves `w` once every lane has ended (cancelled by the win: at once), with what they completed meanwhile. */
    const resolveAfterLanes = (w: Won<T>) => {
      void Promise.allSettled(running).then(() => {
        if (late) w.late = late;
        if (lostLate) w.lost = w.lost ? [...w.lost, ...lostLate] : lostLate;
        resolve(w);
      });
    };

    const finish = (winner: LinkedController | undefined, settle: () => void) => {
      settled = true;
      hedgeTimer.abort();
      for (const lane of lanes) {
        if (lane !== winner) lane.abort(CANCELLED);
      }
      settle();
    };

    const lane = async (first: RouterDeployment, hedge: boolean) => {
      const link = new LinkedController(plan.signal);
      lanes.push(link);
      active++;
      let d: RouterDeployment | undefined = first;
      let won = false;
      try {
        while (d) {
          const out: Outcome<T> = await runDeployment(host, plan, driver, d, link.signal, hedge, gate);
          if (settled) {
            if (out.kind === 'won') {
              // Answered before the router could cancel it: its provider billed it (`Won.late`).
              const usage = driver.billedUsage?.(out.won.value);
              if (usage) (late ??= []).push({ deployment: out.won.deployment, usage });
              out.won.lease.scope?.cancel();
              driver.discard?.(out.won.value);
              out.won.lease.release();
            } else if (out.kind === 'stop' && out.error.afterResponse && !plan.signal?.aborted) {
              // Its answer came too, and was lost after its provider accepted it (a refused embedding answer: billed).
              (lostLate ??= []).push(out.error);
            }
            return;
          }
          if (out.kind === 'won') {
            const w = out.won;
            won = true;
            if (lost) w.lost = lostAfter ? [lost, ...lostAfter] : [lost];
            // The winner's lane stays linked to the caller's signal until its lease settles (streams).
            w.lease.onSettle(() => link.dispose());
            finish(link, () => (driver.billedUsage ? resolveAfterLanes(w) : resolve(w)));
            return;
          }
          if (out.kind === 'stop' && out.error.afterResponse && !plan.signal?.aborted) {
            // This deployment's answer is lost (and may be billed): nothing is sent again, the other lanes may answer.
            if (lost === undefined) lost = out.error;
            else (lostAfter ??= []).push(out.error);
            gate.closed = true;
            closing.abort();
            hedgeTimer.abort();
            return;
          }
          if (out.kind === 'stop') {
            finish(undefined, () => reject(lostError() ?? out.error));
            return;
          }
          if (out.kind === 'cancelled') return;
          last = laterError(last, out.error);
          overflow.note(d, out.error);
          if (gate.closed) return;
          next = overflow.nextFrom(order, next);
          const following: RouterDeployment | undefined = order[next++];
          if (following) emitFallback(host, plan, d, following, out.error);
          d = following;
        }
      } finally {
        active--;
        if (!won) link.dispose();
        if (!settled && active === 0) {
          finish(undefined, () => reject(lostError() ?? last ?? new LLMError({ code: 'no_deployment', message: 'No deployment to try' })));
        }
      }
    };

    const scheduleHedge = () => {
      if (hedges >= plan.hedging.maxHedges || next >= order.length) return;
      host.sleep(plan.hedging.delayMs, hedgeTimer.signal).then(
        () => {
          if (settled || gate.closed || hedges >= plan.hedging.maxHedges) return;
          next = overflow.nextFrom(order, next);
          const d = order[next++];
          if (!d) return;
          hedges++;
          if (host.emitter.has('hedge')) host.emitter.emit('hedge', { requestId: plan.requestId, deployment: d.name });
          start(d, true);
          scheduleHedge();
        },
        () => {},
      );
    };

    const first = order[next++];
    if (!first) {
      reject(new LLMError({ code: 'no_deployment', message: 'No deployment to try' }));
      return;
    }
    start(first, false);
    scheduleHedge();
  });
}
