import { toLLMError } from '../../errors/to-llm-error.js';
import { elapsedMs } from '../elapsed-ms.js';
import type { GenerateRequest } from '../../spec/index.js';
import type { GenerateOptions, PromptOrRequest, RouterResult } from '../types.js';
import { cascadeResult, keepsWeak, startCascade, stepOptions, strongFailure, verify, type CascadeHost } from './cascade-call.js';
import type { ResolvedCascade } from './cascade-set.js';

/**
 * `generate` on a cascade: the weak step (the router's ordinary call: attempts, retries, fallbacks), the
 * verifier's score of its complete answer, and the strong step when the score is at or above the threshold.
 * Rejects with an `LLMError`: the weak step's, the verifier's, or (policy `error`) the strong step's.
 * Sends `cascade:start` and `cascade:end` around it when they have listeners.
 */
export async function runCascade(host: CascadeHost, c: ResolvedCascade, input: PromptOrRequest, options: GenerateOptions): Promise<RouterResult> {
  const startedAt = host.now();
  const requestId = options.requestId ?? host.generateId();
  const { request, end } = startCascade(host, c, requestId, false, input, options);
  if (!end) return run(host, c, request, options, startedAt, requestId);
  try {
    const result = await run(host, c, request, options, startedAt, requestId);
    end(result, undefined);
    return result;
  } catch (e) {
    end(undefined, toLLMError(e));
    throw e;
  }
}

async function run(host: CascadeHost, c: ResolvedCascade, request: GenerateRequest, options: GenerateOptions, startedAt: number, requestId: string): Promise<RouterResult> {
  const weak = await host.generate(request, stepOptions(options, c, 'weak', requestId));
  const verdict = await verify(c, request, weak, options.signal);
  if (verdict.score < c.threshold) return cascadeResult(c, requestId, elapsedMs(startedAt, host.now()), weak, verdict, undefined);
  let strong: RouterResult;
  try {
    strong = await host.generate(request, stepOptions(options, c, 'strong', requestId));
  } catch (e) {
    const error = toLLMError(e);
    if (keepsWeak(c, error, options.signal)) return cascadeResult(c, requestId, elapsedMs(startedAt, host.now()), weak, verdict, undefined, error);
    throw strongFailure(c, weak, verdict, error);
  }
  return cascadeResult(c, requestId, elapsedMs(startedAt, host.now()), weak, verdict, strong);
}
