import type { TokenLogprob, TopLogprob } from '../../spec/logprobs.js';
import type { GeminiLogprobsCandidate, GeminiLogprobsResult } from './gemini-api-types.js';

function isCandidate(c: GeminiLogprobsCandidate | undefined): c is GeminiLogprobsCandidate & { logProbability: number } {
  return typeof c === 'object' && c !== null && typeof c.logProbability === 'number';
}

function top(c: GeminiLogprobsCandidate & { logProbability: number }): TopLogprob {
  return { token: typeof c.token === 'string' ? c.token : '', logprob: c.logProbability };
}

/**
 * A candidate's `logprobsResult` -> our `TokenLogprob[]`: one per `chosenCandidates` entry (`logProbability` ->
 * `logprob`), with the step's `topCandidates` as `topLogprobs` when Gemini sent them (it does when
 * `generationConfig.logprobs` > 0). Undefined when there is no result; entries without a number are skipped
 * (read defensively: a malformed result never fails the answer it came with).
 */
export function convertGeminiLogprobs(result: GeminiLogprobsResult | undefined): TokenLogprob[] | undefined {
  if (typeof result !== 'object' || result === null || !Array.isArray(result.chosenCandidates)) return undefined;
  const steps = Array.isArray(result.topCandidates) ? result.topCandidates : [];
  const tokens: TokenLogprob[] = [];
  result.chosenCandidates.forEach((chosen, i) => {
    if (!isCandidate(chosen)) return;
    const token: TokenLogprob = top(chosen);
    const candidates = steps[i]?.candidates;
    if (Array.isArray(candidates) && candidates.length > 0) token.topLogprobs = candidates.filter(isCandidate).map(top);
    tokens.push(token);
  });
  return tokens;
}
