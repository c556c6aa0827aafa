import { replayAsStream } from '../../cache/replay-stream.js';
import { LLMError } from '../../errors/llm-error.js';
import { toLLMError } from '../../errors/to-llm-error.js';
import { guardCostOf, guardSpend, guardUsageOf, withGuardCost } from '../../semantic-cache/guard-spend.js';
import { isContentPart, type GenerateRequest, type Usage } from '../../spec/index.js';
import { elapsedMs } from '../elapsed-ms.js';
import { LinkedController } from '../resilience/attempt-scope.js';
import type { Cost, GenerateOptions, PromptOrRequest, RouterResult, RouterStream, RouterStreamPart, StreamSpend } from '../types.js';
import { cascadeResult, keepsWeak, plusUsage, prepareCascade, stepOf, stepOptions, strongFailure, verify, type CascadeHost } from './cascade-call.js';
import type { ResolvedCascade } from './cascade-set.js';
import { refusedAnswerOf } from '../refused-answer.js';
import { billFailedAttempts, plusSpend } from '../stream-driver.js';
import { Drain, handOver, StreamResult } from '../stream-result.js';
import { providerCacheUsage, sumCost, sumUsage } from './sum-usage.js';
import type { CascadeStep, CascadeVerdict } from './types.js';

function noop(): void {}

/**
 * The weak step's spend (`cost`: its own, with the verifier's), its guard call's tokens as `guardUsage`, the verifier's
 * (when it reported them) as `verifierUsage`; the failed attempts in its cost (a hedge lane's answer that came with the
 * weak answer) with their tokens in `usage` and each in `failedAttempts`; the step itself as `weakStep` (its deployment).
 */
function weakSpend(weak: RouterResult, step: CascadeStep, cost: Cost, replay: boolean, verifierUsage?: Usage): StreamSpend {
  const spend: StreamSpend = { usage: plusUsage(providerCacheUsage(weak.usage, weak.cached), weak.failedAttemptsUsage)!, cost, replay };
  if (weak.failedAttempts) spend.failedAttempts = weak.failedAttempts;
  if (weak.guardUsage) spend.guardUsage = weak.guardUsage;
  if (verifierUsage) spend.verifierUsage = verifierUsage;
  spend.weakStep = step;
  return spend;
}

/**
 * What a failed router stream's attempts had reported paid (`spent()` less its guard calls: their cost apart, their
 * tokens in `guardUsage`, not `usage`), when they reported any tokens.
 */
function attemptsOf(spent: StreamSpend | undefined): StreamSpend | undefined {
  if (!spent || spent.replay || spent.usage.inputTokens + spent.usage.outputTokens <= 0) return undefined;
  const g = spent.guardCost;
  if (!g) return spent;
  const cost: Cost = { inputUsd: spent.cost.inputUsd - g.inputUsd, outputUsd: spent.cost.outputUsd - g.outputUsd, totalUsd: spent.cost.totalUsd - g.totalUsd, estimated: spent.cost.estimated };
  const attempts: StreamSpend = { usage: spent.usage, cost, replay: false };
  if (spent.failedAttempts) attempts.failedAttempts = spent.failedAttempts;
  return attempts;
}

/**
 * What the attempts of a failed weak step, or a failed custom verifier's own model calls, were billed (its error's
 * `REFUSED_ANSWER`: `withBilledAttempts`), each with its deployment in `failedAttempts`; undefined when it carries none.
 */
function billedSpend(e: unknown): StreamSpend | undefined {
  const r = LLMError.isInstance(e) ? refusedAnswerOf(e.details) : undefined;
  return r ? { usage: r.usage, cost: r.cost, replay: false, ...(r.failedAttempts ? { failedAttempts: r.failedAttempts } : {}) } : undefined;
}

/** A spend with a guard call's cost (and tokens) added. */
function withGuard(spent: StreamSpend, cost: Cost, usage: Usage | undefined): StreamSpend {
  const guardUsage = plusUsage(spent.guardUsage, usage);
  return { ...spent, cost: sumCost(spent.cost, cost), guardCost: spent.guardCost ? sumCost(spent.guardCost, cost) : cost, ...(guardUsage ? { guardUsage } : {}) };
}

/**
 * `stream` on a cascade. The weak answer must be complete before the decision, so nothing is streamed until
 * it is: the weak step runs as a non-streamed call, then the verifier scores it. Accepted: the weak answer
 * goes out as stream parts (`route`, its `warnings` when it had any, the cache replay's parts: a `usage` part
 * with its prompt's usage, word-sized text deltas, `finish` with its usage). Escalated: the strong step is
 * streamed (the router's ordinary stream, failover before its first content, its own `warnings` part), its
 * `finish` carrying the usage of both calls; its `usage` parts are the strong call's own, on top of the weak
 * step's spend (`spent()`, which a consumer adds, as the gateway does for a broken stream's bill and for the
 * Anthropic `message_start`). The time to first token therefore includes the whole weak call (and the verifier).
 * A strong stream that fails before any content follows `onStrongFailure` (the weak answer, or an error part);
 * one that fails later ends with an error part, as any router stream. `cancel` aborts the step in progress
 * (the weak call, the verifier, or the strong stream) through the cascade's own signal (the caller's, linked).
 */
export function streamCascade(host: CascadeHost, c: ResolvedCascade, input: PromptOrRequest, callerOptions: GenerateOptions): RouterStream {
  const requestId = callerOptions.requestId ?? host.generateId();
  // The steps' signal: the caller's, and `cancel`.
  const link = new LinkedController(callerOptions.signal);
  const options: GenerateOptions = { ...callerOptions, signal: link.signal };
  let cancelled = false;
  let resolve!: (r: RouterResult) => void;
  let reject!: (e: LLMError) => void;
  const result = new StreamResult<RouterResult>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  result.catch(noop);
  let settled = false;
  // The cascade call starts now, as a router stream does (in the caller's trace context, for its span's parent): its
  // `cascade:start` (when it has listeners), and what sends its `cascade:end`.
  let ended = host.started?.(c, requestId, true, callerOptions, input);
  /** Set once the weak step answered: what it cost, and whether its answer is being replayed. */
  let spent: StreamSpend | undefined;
  /** `spent` less the verifier's reported cost (`verifierCost`), once the verifier reported one. */
  let unverified: StreamSpend | undefined;
  let verifierCost: Cost | undefined;
  /** The weak step's call while it runs (a `cascade:end` sent on `cancel` waits for its `request:end`). */
  let weakCall: Promise<RouterResult> | undefined;
  const succeed = (r: RouterResult): void => {
    settled = true;
    link.dispose();
    resolve(r);
    ended?.(r, undefined);
  };
  const fail = (e: LLMError): RouterStreamPart => {
    settled = true;
    link.dispose();
    reject(e);
    ended?.(undefined, e);
    return { type: 'error', error: e };
  };

  /** Hands out a finished answer (the weak one) as stream parts, with the final result's usage. */
  async function* replay(final: RouterResult, startedAt: number): AsyncGenerator<RouterStreamPart> {
    yield { type: 'route', requestId, deployment: final.deployment, model: final.model, provider: final.provider, cached: final.cached };
    // The weak step was a call of its own (unless the router's cache answered it): what it did not do as asked.
    if (final.warnings) yield { type: 'warnings', warnings: final.warnings };
    let first = true;
    for await (const part of replayAsStream({ ...final, createdAt: 0 })) {
      if (first && isContentPart(part)) {
        first = false;
        final.timeToFirstTokenMs = elapsedMs(startedAt, host.now());
      }
      if (part.type === 'finish') {
        if (first) final.timeToFirstTokenMs = elapsedMs(startedAt, host.now());
        succeed(final);
      }
      yield part;
    }
  }

  async function* run(): AsyncGenerator<RouterStreamPart> {
    const startedAt = host.now();
    let request: GenerateRequest;
    let weak: RouterResult;
    let step: CascadeStep;
    let verdict: CascadeVerdict;
    try {
      request = prepareCascade(host, c, input, options);
      weakCall = host.generate(request, stepOptions(options, c, 'weak', requestId));
      try {
        weak = await weakCall;
      } finally {
        weakCall = undefined;
      }
      // Paid from here on, whatever the verifier says (a stream abandoned while it runs bills the weak call);
      // a weak step answered from the router cache wrote and read nothing in a provider's prompt cache.
      step = stepOf(weak);
      spent = weakSpend(weak, step, weak.cost, false);
      verdict = await verify(c, request, weak, options.signal);
    } catch (e) {
      // A semantic guard call the failed weak step paid (on its error: `guardCostOf`) was spent, cancelled or not, and so
      // were its attempts that failed after their provider billed them (`REFUSED_ANSWER`: Gemini's failed tool calls).
      // Once the weak step had answered, the error is the verifier's: a custom verifier's own model calls that its
      // providers billed before it failed (their error's `REFUSED_ANSWER`, which `verify` keeps on its error) were
      // spent as well, on top of the weak step, as a cascade's generate() error says them.
      const guard = guardCostOf(e);
      const guardUsage = guardUsageOf(e);
      if (guard) spent = spent ? withGuard(spent, guard, guardUsage) : guardSpend(guard, guardUsage);
      spent = plusSpend(spent, billedSpend(e));
      if (cancelled) return;
      yield fail(toLLMError(e));
      return;
    }
    const accepted = verdict.score < c.threshold;
    // The verifier's reported cost (and tokens) was paid with the weak call.
    spent = weakSpend(weak, step, weak.cost, accepted, verdict.usage);
    if (verdict.cost) {
      unverified = spent;
      verifierCost = verdict.cost;
      spent = { ...spent, cost: sumCost(weak.cost, verdict.cost) };
    }
    if (accepted) {
      yield* replay(cascadeResult(c, requestId, elapsedMs(startedAt, host.now()), weak, verdict, undefined), startedAt);
      return;
    }
    if (cancelled) return;
    const strong = host.stream(request, stepOptions(options, c, 'strong', requestId));
    strongStream = strong;
    let routed = false;
    let firstAt: number | undefined;
    for await (const part of strong) {
      if (part.type === 'route') {
        routed = true;
        yield { ...part, requestId };
        continue;
      }
      if (part.type === 'error') {
        // A semantic guard call the strong step's lookup paid (its stream's `spent().guardCost`) rides on its error.
        // What the strong step's failed attempts had reported paid is not a guard's: it stays out, as a cascade's
        // generate() leaves it out.
        const guard = strong.spent?.();
        const error = guard?.guardCost ? withGuardCost(toLLMError(part.error), guard.guardCost, guard.guardUsage) : toLLMError(part.error);
        // Before any content (no route part yet): the strong step never answered.
        if (!routed && keepsWeak(c, error, options.signal)) {
          // (`spentNow` adds the strong stream's own spend, its failed attempts' included, to this one.)
          spent = { ...spent, replay: true };
          const kept = cascadeResult(c, requestId, elapsedMs(startedAt, host.now()), weak, verdict, undefined, error);
          // The prompts the strong step's failed attempts had reported were billed: the kept answer pays them too.
          billFailedAttempts(kept, attemptsOf(guard));
          yield* replay(kept, startedAt);
          return;
        }
        yield fail(strongFailure(c, weak, verdict, error));
        return;
      }
      if (firstAt === undefined && isContentPart(part)) firstAt = host.now();
      if (part.type === 'finish') {
        // The router stream settles its result before it hands out its finish part.
        const final = cascadeResult(c, requestId, elapsedMs(startedAt, host.now()), weak, verdict, await strong.result);
        final.timeToFirstTokenMs = elapsedMs(startedAt, firstAt ?? host.now());
        succeed(final);
        yield { type: 'finish', finishReason: part.finishReason, usage: final.usage, ...(part.stopSequence !== undefined ? { stopSequence: part.stopSequence } : {}) };
        continue;
      }
      yield part;
    }
    // (A router stream always ends with a finish or an error part; never end silently if one did not.)
    if (!settled) yield fail(new LLMError({ code: 'stream_interrupted', message: `The stream of cascade "${c.name}" ended without a finish or error part` }));
  }

  let strongStream: RouterStream | undefined;
  /**
   * What the completed calls cost: the weak step (and the verifier), a guard call of the strong step's lookup (its
   * cost as `guardCost`, its tokens as `guardUsage`), and the strong step's failed attempts' reported prompts (their
   * cost and tokens, no guard's).
   */
  const spentNow = (base = spent): StreamSpend | undefined => {
    const strong = strongStream?.spent?.();
    if (!base || !strong) return base;
    const guarded = strong.guardCost ? withGuard(base, strong.guardCost, strong.guardUsage) : base;
    const failed = attemptsOf(strong);
    if (!failed) return guarded;
    const both: StreamSpend = { ...guarded, usage: sumUsage(guarded.usage, failed.usage), cost: sumCost(guarded.cost, failed.cost) };
    if (failed.failedAttempts) both.failedAttempts = guarded.failedAttempts ? [...guarded.failedAttempts, ...failed.failedAttempts] : failed.failedAttempts;
    return both;
  };
  /**
   * The consumer's spend details of an aborted cascade (the weak step was paid): as a strong failure's, the verifier's
   * reported cost apart (`verifierCost`), the rest under `weak`.
   */
  const abortDetails = () => {
    const paid = spentNow(unverified ?? spent);
    if (!paid) return {};
    const weakPaid = { usage: paid.usage, cost: paid.cost, ...(paid.guardUsage ? { guardUsage: paid.guardUsage } : {}) };
    return { details: { cascade: { name: c.name, weak: weakPaid, ...(verifierCost ? { verifierCost } : {}), ...(paid.verifierUsage ? { verifierUsage: paid.verifierUsage } : {}) } } };
  };

  let consumed = false;
  /** `.result` awaited before the stream was iterated: the cascade reads itself (see `StreamResult`). */
  let drain: Drain | undefined;
  const stream: RouterStream = {
    requestId,
    result,
    spent: spentNow,
    cancel(reason?: unknown): void {
      if (settled || cancelled) return;
      cancelled = true;
      // (`cascade:end` after the strong step's own end: what its partial answer was billed counts in the cascade's.)
      const end = ended;
      ended = undefined;
      const error = new LLMError({ code: 'aborted', message: 'The stream was cancelled by its consumer', ...(reason !== undefined ? { cause: reason } : {}), ...abortDetails() });
      fail(error);
      strongStream?.cancel?.(reason);
      // (And after the weak step's end when it was running: the abort below ends it, a few turns later.)
      const running = end && weakCall;
      link.abort(reason ?? new LLMError({ code: 'aborted', message: 'The stream was cancelled by its consumer' }));
      if (running) running.then(() => end(undefined, error), () => end(undefined, error));
      else end?.(undefined, error);
    },
    [Symbol.asyncIterator](): AsyncIterableIterator<RouterStreamPart> {
      if (drain !== undefined && !drain.handed) {
        drain.handed = true;
        return handOver(drain);
      }
      if (consumed) throw new LLMError({ code: 'invalid_request', message: 'A router stream can be iterated only once' });
      consumed = true;
      return iterate();
    },
  };
  result.onAwait = () =>
    queueMicrotask(() => {
      if (consumed || settled || cancelled) return;
      consumed = true;
      drain = new Drain(iterate(), () => stream.cancel!());
    });
  return stream;

  function iterate(): AsyncIterableIterator<RouterStreamPart> {
    const g = run();
    // However the stream ends (its end, the consumer's return() or throw()), `.result` settles.
    const closed = (): void => {
      if (!settled) {
        // (The weak step's spend rides along, as on the strong step's errors: it was paid.)
        fail(new LLMError({ code: 'aborted', message: 'The stream was closed by its consumer before it ended', ...abortDetails() }));
      }
    };
    return {
      next: () =>
        (cancelled ? g.return(undefined) : g.next()).then((r) => {
          if (r.done) closed();
          return r;
        }),
      return: (value?: unknown) => g.return(value as undefined).finally(closed),
      throw: (e?: unknown) => g.throw(e).finally(closed),
      // Iterable itself, as an async generator is (`for await` over the iterator).
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }
}
