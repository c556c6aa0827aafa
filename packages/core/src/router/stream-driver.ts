import { LLMError } from '../errors/llm-error.js';
import { computeCost } from '../pricing/compute-cost.js';
import { isContentPart, type CallOptions, type GenerateRequest, type StreamPart, type Usage } from '../spec/index.js';
import { endsOnAbort } from '../util/sse-part-stream.js';
import type { RouterDeployment } from './deployment.js';
import { elapsedMs } from './elapsed-ms.js';
import { CANCELLED, LinkedController, type AttemptScope } from './resilience/attempt-scope.js';
import type { AttemptDriver, ExecutionHost } from './resilience/run-attempts.js';
import { sumCost, sumUsage } from './cascade/sum-usage.js';
import type { Cost, RouterResult, StreamSpend } from './types.js';

/** An engine stream read up to its first content part (or its finish, for an empty answer). */
export interface PrimedStream {
  iterator: AsyncIterator<StreamPart>;
  /** Parts read so far, the first content part (or finish) last. */
  buffered: StreamPart[];
  /** The engine already finished (an answer without content parts). */
  finished: boolean;
  /** When the first content part arrived (router clock). */
  firstContentAt: number;
  /**
   * The iterator ends by itself as soon as the attempt's signal aborts (`ENDS_ON_ABORT`: an `SsePartStream`, whose
   * abort cancels its body read and hands out its abort part, or a wrapper that passes one through), so the router
   * need not race each part against the abort.
   */
  endsOnAbort: boolean;
}

function noop(): void {}

/** Ends an engine iterator without waiting or throwing (closes the upstream connection). */
export function closeQuietly(iterator: AsyncIterator<StreamPart> | undefined): void {
  if (!iterator?.return) return;
  try {
    const p = iterator.return();
    if (p && typeof p.then === 'function') p.then(undefined, () => {});
  } catch {
    // already closed
  }
}

/**
 * The attempts of a stream before its first content part, so that its `cancel` can stop them: each scope is
 * kept while its attempt runs; `stop()` cancels them, and an attempt that starts later is cancelled at once
 * (no request is sent). One scope in a field (an attempt at a time, without hedging), more in a list. A retry's
 * backoff waits through `backoff`, which `stop()` ends too (its controller is made only for the wait).
 */
export class PrimingAttempts {
  stopped = false;
  /**
   * What the attempts that failed before their first content part had reported (a `usage` part: the prompt, as
   * Anthropic's `message_start` says it), at their deployments' prices: the provider bills that prompt, and the
   * stream's `spent()` says it, for whoever bills a stream that fails. A hedge lane the router cancelled because
   * another lane answered counts too (its provider billed its prompt as well). Undefined while none did.
   */
  paid: StreamSpend | undefined;
  /** Resolves `ended()` once no attempt is in flight. */
  private onEnded: (() => void) | undefined;
  /** What the attempts billed since the last `admit` cost (what the next attempt must be admitted with). */
  private unadmitted: Cost | undefined;
  /** The admission in progress (every attempt that starts meanwhile waits for it), or the refusal that ended the call. */
  private admitting: Promise<void> | undefined;
  private one: AttemptScope | undefined;
  private more: AttemptScope[] | undefined;
  /** The backoff waits in progress (more than one only with hedging). */
  private waits: LinkedController[] | undefined;

  /** `beforeAttempt`: `GenerateOptions.beforeAttemptAfterSpend`, asked before an attempt that follows billed ones. */
  constructor(private readonly beforeAttempt?: (billed: Cost) => Promise<void> | void) {}

  /**
   * The wait before the next attempt: `beforeAttempt` with what was billed since it was last asked, if anything was.
   * While it is pending, every attempt that starts (a hedge lane's too) waits for that same admission, and then for
   * one of what was billed meanwhile; a refusal is kept, so that it stops every attempt, later ones included.
   */
  admit(): Promise<void> | undefined {
    if (this.admitting) return this.admitting;
    const billed = this.unadmitted;
    if (!billed || !this.beforeAttempt) return undefined;
    this.unadmitted = undefined;
    let admitted: Promise<void> | void;
    try {
      admitted = this.beforeAttempt(billed);
    } catch (e) {
      admitted = Promise.reject(e as Error);
    }
    if (!(admitted instanceof Promise)) return undefined;
    const pending = admitted.then(() => {
      this.admitting = undefined;
      return this.admit();
    });
    pending.catch(noop);
    this.admitting = pending;
    return pending;
  }

  /** `sleep(ms, parent)`, ended by `stop()` as by `parent`: it rejects, and the attempts end as cancelled. */
  async backoff(sleep: ExecutionHost['sleep'], ms: number, parent: AbortSignal | undefined): Promise<void> {
    const link = new LinkedController(parent);
    // Stopped before the wait began: it ends at once.
    if (this.stopped) link.abort(CANCELLED);
    const waits = (this.waits ??= []);
    waits.push(link);
    try {
      await sleep(ms, link.signal);
    } finally {
      const i = waits.indexOf(link);
      if (i >= 0) waits.splice(i, 1);
      link.dispose();
    }
  }

  add(scope: AttemptScope): void {
    if (this.one === undefined) this.one = scope;
    else (this.more ??= []).push(scope);
  }

  delete(scope: AttemptScope): void {
    if (this.one === scope) this.one = undefined;
    else if (this.more) {
      const i = this.more.indexOf(scope);
      if (i >= 0) this.more.splice(i, 1);
    }
    if (this.onEnded && this.one === undefined && !this.more?.length) {
      const ended = this.onEnded;
      this.onEnded = undefined;
      ended();
    }
  }

  /**
   * A promise that resolves once no attempt is in flight (the hedge lanes the router cancelled when one answered have
   * ended, and what they had reported is in `paid`), or undefined when none is: they end at once (their attempts race
   * the abort), so an answer waits for them only with hedging, and only for a turn or two.
   */
  ended(): Promise<void> | undefined {
    if (this.one === undefined && !this.more?.length) return undefined;
    return new Promise<void>((resolve) => {
      const before = this.onEnded;
      this.onEnded = before
        ? () => {
            before();
            resolve();
          }
        : resolve;
    });
  }

  /** An attempt on `d` failed after its engine reported `usage` (see `paid`). */
  failedAfterUsage(d: RouterDeployment, usage: Usage): void {
    const cost = computeCost(usage, d.price);
    const spend: StreamSpend = { usage, cost, replay: false, failedAttempts: [{ deployment: d.name, model: d.modelId, provider: d.provider, usage, cost }] };
    this.paid = plusSpend(this.paid, spend);
    this.unadmitted = this.unadmitted ? sumCost(this.unadmitted, cost) : cost;
  }

  stop(): void {
    this.stopped = true;
    const one = this.one;
    const more = this.more;
    const waits = this.waits;
    this.one = this.more = this.waits = undefined;
    one?.cancel();
    if (more) for (const scope of more) scope.cancel();
    if (waits) for (const link of waits) link.abort(CANCELLED);
  }
}

/**
 * Two spends of one stream together (either may be absent): tokens and costs summed, the guard calls' tokens kept,
 * `replay` when either is a replay (a replayed answer stays paid in full; what is added was paid on top), a cascade's
 * `weakStep` kept.
 */
export function plusSpend(a: StreamSpend | undefined, b: StreamSpend | undefined): StreamSpend | undefined {
  if (!a || !b) return a ?? b;
  const spend: StreamSpend = { usage: sumUsage(a.usage, b.usage), cost: sumCost(a.cost, b.cost), replay: a.replay || b.replay };
  const guardUsage = a.guardUsage && b.guardUsage ? sumUsage(a.guardUsage, b.guardUsage) : (a.guardUsage ?? b.guardUsage);
  if (guardUsage) spend.guardUsage = guardUsage;
  const guardCost = a.guardCost && b.guardCost ? sumCost(a.guardCost, b.guardCost) : (a.guardCost ?? b.guardCost);
  if (guardCost) spend.guardCost = guardCost;
  const failed = a.failedAttempts && b.failedAttempts ? [...a.failedAttempts, ...b.failedAttempts] : (a.failedAttempts ?? b.failedAttempts);
  if (failed) spend.failedAttempts = failed;
  const verifierUsage = a.verifierUsage && b.verifierUsage ? sumUsage(a.verifierUsage, b.verifierUsage) : (a.verifierUsage ?? b.verifierUsage);
  if (verifierUsage) spend.verifierUsage = verifierUsage;
  const weakStep = a.weakStep ?? b.weakStep;
  if (weakStep) spend.weakStep = weakStep;
  return spend;
}

/**
 * The usage of the last `usage` part among `parts` (a later report replaces earlier ones), when it counts tokens
 * (an engine in plain JS may send anything: a usage that is no object, or counts that are no numbers, is none).
 */
function lastUsage(parts: readonly StreamPart[]): Usage | undefined {
  for (let i = parts.length - 1; i >= 0; i--) {
    const part = parts[i]!;
    if (part.type !== 'usage') continue;
    const usage: unknown = part.usage;
    if (typeof usage !== 'object' || usage === null) return undefined;
    const { inputTokens, outputTokens } = usage as Usage;
    return typeof inputTokens === 'number' && typeof outputTokens === 'number' && inputTokens + outputTokens > 0 ? (usage as Usage) : undefined;
  }
  return undefined;
}

/**
 * Runs a streaming attempt up to the first content part: failures before it (a thrown first
 * `next()`, an `error` part, an end without content) reject, so the router can still fall over;
 * after it the stream belongs to the consumer. With `attempts`, each attempt's scope is kept there while it
 * runs (see `PrimingAttempts`), and what a failed attempt had reported is added to its `paid`. On a call of `tenant`, a
 * deployment on the operator's account gets the end-user ids and prompt-cache key scoped to it (`RouterDeployment.requestFor`).
 */
export function streamDriver(
  request: GenerateRequest,
  headers: Record<string, string> | undefined,
  host: Pick<ExecutionHost, 'now' | 'sleep'>,
  attempts?: PrimingAttempts,
  tenant?: string,
): AttemptDriver<PrimedStream> {
  const now = host.now;
  const driver: AttemptDriver<PrimedStream> = {
    async run(d: RouterDeployment, scope: AttemptScope | undefined): Promise<PrimedStream> {
      const startedAt = now();
      let iterator: AsyncIterator<StreamPart> | undefined;
      let buffered: StreamPart[] | undefined;
      if (attempts && scope) {
        if (attempts.stopped) {
          // Stopped between attempts (a retry's wait, a hedge starting): cancelled before it sends anything.
          scope.cancel();
          throw scope.signal.reason;
        }
        attempts.add(scope);
      }
      try {
        const engine = d.engine();
        const options: CallOptions = headers ? { signal: scope?.signal, headers } : { signal: scope?.signal };
        // An engine that reports its provider request tells the scope when it goes out (`AttemptScope.providerRequest`).
        if (scope && engine.reportsProviderRequest === true) options.onProviderRequest = scope.providerRequest();
        // An answer that comes whole (a server that ignored `stream: true`) is marked: a timeout while it is read is
        // `afterResponse`, as for generate (`AttemptScope.providerResponse`).
        const onResponse = scope?.providerResponse();
        if (onResponse) options.onProviderResponse = onResponse;
        iterator = engine.stream(d.requestFor(request, tenant), options)[Symbol.asyncIterator]();
        buffered = [];
        for (;;) {
          const r = scope ? await scope.race(iterator.next()) : await iterator.next();
          if (r.done) {
            throw new LLMError({
              code: 'stream_interrupted',
              message: `The stream from "${d.name}" ended before any content, finish or error`,
              deployment: d.name,
              provider: d.provider,
            });
          }
          const part = r.value;
          if (part.type === 'error') throw part.error;
          buffered.push(part);
          if (part.type === 'finish' || isContentPart(part)) {
            const at = now();
            scope?.firstToken();
            d.stats.firstToken(elapsedMs(startedAt, at));
            return { iterator, buffered, finished: part.type === 'finish', firstContentAt: at, endsOnAbort: endsOnAbort(iterator) };
          }
        }
      } catch (e) {
        closeQuietly(iterator);
        // The prompt the engine reported before it failed (a cut after Anthropic's `message_start`) was billed, a
        // hedge loser's (cancelled by the router because another lane answered) too.
        if (attempts && buffered) {
          const usage = lastUsage(buffered);
          if (usage) attempts.failedAfterUsage(d, usage);
        }
        throw e;
      } finally {
        if (attempts && scope) attempts.delete(scope);
      }
    },
    discard(value: PrimedStream): void {
      closeQuietly(value.iterator);
    },
    // A hedge lane that reached its first content part in the same turn as the winner (too late to be cancelled): its
    // provider billed the prompt it reported (`Won.late`). With it, the winner is handed out once every lane has ended.
    billedUsage: (value) => lastUsage(value.buffered),
    // The scope's signal goes to the engine's `stream` only.
    takesAttemptSignals: true,
  };
  if (attempts) {
    driver.backoff = (ms, parent) => attempts.backoff(host.sleep, ms, parent);
    driver.admit = () => attempts.admit();
  }
  return driver;
}

/**
 * Bills `result` (an answer a later attempt gave) for the attempts that failed before it after their provider reported
 * usage (`PrimingAttempts.paid`): their cost is added to its `cost` and to `failedAttemptsCost`, their tokens to
 * `failedAttemptsUsage` (not in `usage`, the answer's own), each attempt to `failedAttempts` (after those already there:
 * a cascade's kept weak answer has its own step's).
 */
export function billFailedAttempts(result: RouterResult, paid: StreamSpend | undefined): void {
  if (!paid) return;
  result.cost = sumCost(result.cost, paid.cost);
  result.failedAttemptsCost = result.failedAttemptsCost ? sumCost(result.failedAttemptsCost, paid.cost) : paid.cost;
  result.failedAttemptsUsage = result.failedAttemptsUsage ? sumUsage(result.failedAttemptsUsage, paid.usage) : paid.usage;
  if (paid.failedAttempts) result.failedAttempts = result.failedAttempts ? [...result.failedAttempts, ...paid.failedAttempts] : paid.failedAttempts;
}
