import { replayAsStream } from '../cache/replay-stream.js';
import { LLMError } from '../errors/llm-error.js';
import { toLLMError } from '../errors/to-llm-error.js';
import type { GenerateResult, StreamPart } from '../spec/index.js';
import type { RouterDeployment } from './deployment.js';
import { runAttempts, type AttemptLease, type ExecutionHost, type ExecutionPlan } from './resilience/run-attempts.js';
import { StreamAccumulator } from './stream-accumulator.js';
import { closeQuietly, streamDriver, type PrimedStream } from './stream-driver.js';
import type { RoutePlan } from './plan-route.js';
import type { RouterResult, RouterStream, RouterStreamPart } from './types.js';

/** What a router stream needs from its router. */
export interface StreamHooks {
  host: ExecutionHost;
  requestId: string;
  startedAt: number;
  headers: Record<string, string> | undefined;
  estimatedInputTokens(): number;
  /** A cached answer, when the cache has one. */
  cached(): Promise<RouterResult | undefined>;
  plan(): Promise<{ plan: ExecutionPlan; route: RoutePlan }>;
  /** The final result of a streamed answer. */
  build(d: RouterDeployment, result: GenerateResult, plan: ExecutionPlan, route: RoutePlan, ttftMs: number): RouterResult;
  /** Stores a finished answer in the cache (never throws). */
  store(result: RouterResult): Promise<void>;
  /** Called once at the end: events. */
  end(result: RouterResult | undefined, error: LLMError | undefined): void;
}

function noop(): void {}

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

/**
 * The router's stream: a `route` part, then the winning engine's parts. Failover happens only before
 * the first content part; after it an engine failure is forwarded as an `error` part and the stream
 * ends (never a silent clean end). `.result` settles when the stream ends; iterate it once.
 */
export function createRouterStream(hooks: StreamHooks): RouterStream {
  let resolve!: (r: RouterResult) => void;
  let reject!: (e: LLMError) => void;
  const result = new Promise<RouterResult>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // An unobserved rejection must never crash the process.
  result.catch(noop);
  let consumed = false;

  async function* run(): AsyncGenerator<RouterStreamPart> {
    const { host } = hooks;
    let lease: AttemptLease | undefined;
    let iterator: AsyncIterator<StreamPart> | undefined;
    let done = false;
    let error: LLMError | undefined;
    let final: RouterResult | undefined;
    try {
      const hit = await hooks.cached();
      if (hit) {
        final = hit;
        done = true;
        resolve(hit);
        yield* replay(hit);
        return;
      }
      const { plan, route } = await hooks.plan();
      let won;
      try {
        won = await runAttempts<PrimedStream>(host, plan, streamDriver(plan.request, hooks.headers, host.now));
      } catch (e) {
        error = toLLMError(e);
        done = true;
        yield { type: 'error', error };
        return;
      }
      lease = won.lease;
      iterator = won.value.iterator;
      const d = won.deployment;
      const scope = lease.scope;
      const acc = new StreamAccumulator(hooks.estimatedInputTokens);
      const ttftMs = won.value.firstContentAt - hooks.startedAt;
      const succeed = async (): Promise<void> => {
        let r: RouterResult;
        try {
          r = hooks.build(d, acc.result(), plan, route, ttftMs);
        } catch (e) {
          lease!.release();
          throw e;
        }
        lease!.succeed(r.usage.totalTokens);
        // Stored before the finish part goes out, so a call right after the stream can hit it.
        await hooks.store(r);
        final = r;
        done = true;
        resolve(r);
      };
      yield { type: 'route', requestId: hooks.requestId, deployment: d.name, model: d.modelId, provider: d.provider, cached: false };
      const buffered = won.value.buffered;
      for (let i = 0; i < buffered.length; i++) {
        const part = buffered[i]!;
        acc.add(part);
        if (part.type === 'finish') await succeed();
        yield part;
      }
      if (won.value.finished) return;
      for (;;) {
        let part: StreamPart;
        try {
          const r = scope ? await scope.race(iterator.next()) : await iterator.next();
          if (r.done) {
            throw new LLMError({
              code: 'stream_interrupted',
              message: `The stream from "${d.name}" ended without a finish or error part`,
              deployment: d.name,
              provider: d.provider,
            });
          }
          part = r.value;
          if (part.type === 'error') throw part.error;
        } catch (e) {
          // After the first content there is no failover: the consumer sees the error as the last part.
          error = scope ? scope.errorFor(e) : toLLMError(e, { deployment: d.name, provider: d.provider });
          lease.fail(error);
          done = true;
          yield { type: 'error', error };
          return;
        }
        acc.add(part);
        if (part.type === 'finish') {
          await succeed();
          yield part;
          return;
        }
        yield part;
      }
    } catch (e) {
      // Planning failures (no deployment, bad strategy) and anything unexpected: an error part.
      if (!done) {
        error = toLLMError(e);
        done = true;
        yield { type: 'error', error };
      }
    } finally {
      if (!done) {
        // The consumer stopped reading: cancel the upstream, the deployment did nothing wrong.
        lease?.scope?.cancel();
        lease?.release();
        error = new LLMError({ code: 'aborted', message: 'The stream was closed by its consumer before it ended' });
      }
      closeQuietly(iterator);
      if (error) {
        reject(error);
        hooks.end(undefined, error);
      } else if (final) {
        hooks.end(final, undefined);
      }
    }
  }

  return {
    requestId: hooks.requestId,
    result,
    [Symbol.asyncIterator](): AsyncIterator<RouterStreamPart> {
      if (consumed) throw new LLMError({ code: 'invalid_request', message: 'A router stream can be iterated only once' });
      consumed = true;
      const gen = run();
      let started = false;
      // A generator closed before its first `next()` never runs its body (nor its `finally`):
      // settle `.result` and end the request here, or both would wait forever.
      const closeUnstarted = (): void => {
        if (started) return;
        started = true;
        const error = new LLMError({ code: 'aborted', message: 'The stream was closed by its consumer before it started' });
        reject(error);
        hooks.end(undefined, error);
      };
      return {
        next(): Promise<IteratorResult<RouterStreamPart>> {
          started = true;
          return gen.next();
        },
        return(value?: unknown): Promise<IteratorResult<RouterStreamPart>> {
          closeUnstarted();
          return gen.return(value as undefined);
        },
        throw(e?: unknown): Promise<IteratorResult<RouterStreamPart>> {
          closeUnstarted();
          return gen.throw(e);
        },
      };
    },
  };
}
