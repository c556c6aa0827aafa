import { toLLMError } from '../../errors/to-llm-error.js';
import { elapsedMs } from '../elapsed-ms.js';
import type { GenerateOptions, PromptOrRequest, RouterResult } from '../types.js';
import { cascadeResult, keepsWeak, prepareCascade, stepOptions, strongFailure, verify, type CascadeHost } from './cascade-call.js';
import type { ResolvedCascade } from './cascade-set.js';

/**
 * `generate` on a cascade: the weak step (the router's ordinary call: attempts, retries, fallbacks), the
 * verifier's score of its complete answer, and the strong step when the score is at or above the threshold.
 * Rejects with an `LLMError`: the weak step's, the verifier's, or (policy `error`) the strong step's.
 */
export async function runCascade(host: CascadeHost, c: ResolvedCascade, input: PromptOrRequest, options: GenerateOptions): Promise<RouterResult> {
  const startedAt = host.now();
  const requestId = options.requestId ?? host.generateId();
  const request = prepareCascade(host, c, input, options);
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
