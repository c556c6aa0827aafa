import { LLMError } from '../../errors/llm-error.js';
import type { GenerateRequest } from '../../spec/index.js';
import { MAX_UINT32_SEED, uint32Seed } from '../../util/seeded-random.js';
import { refuseTools, resolveLocalSampling, type LocalSampling } from '../shared/local-sampling.js';
import { checkReasoning } from '../shared/reasoning.js';
import type { GgufOptions } from './gguf-options.js';

/** The sampling settings of one request, after defaults; the penalties only when the request sets them. */
export interface GgufSampling extends LocalSampling {
  frequencyPenalty?: number;
  presencePenalty?: number;
}

/**
 * Checks a request's sampling fields and fills in the model's defaults. Tools are refused (not supported); a
 * thinking effort/budget is checked and dropped (with a `setting_not_sent` warning: `localRequestWarnings`).
 * `frequencyPenalty` / `presencePenalty` must be numbers from -2 to 2 (OpenAI's range; the router checks the same).
 */
export function resolveSampling(request: GenerateRequest, options: Omit<GgufOptions, 'maxConcurrency'>): GgufSampling {
  refuseTools(request, 'gguf');
  // No reasoning control: a valid `reasoning` is dropped (a hint, like on any deployment that cannot reason).
  checkReasoning(request.reasoning, 'gguf');
  const sampling: GgufSampling = resolveLocalSampling(request, options, 'gguf');
  if (sampling.seed !== undefined) sampling.seed = llamaSeed(sampling.seed);
  for (const field of ['frequencyPenalty', 'presencePenalty'] as const) {
    const value = request[field];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < -2 || value > 2) {
      throw new LLMError({ code: 'invalid_request', message: `${field}: must be a number from -2 to 2`, param: field, provider: 'gguf' });
    }
    sampling[field] = value;
  }
  return sampling;
}

/** The largest seed llama.cpp samples with as given: it keeps a uint32, and 0xFFFFFFFF means "pick a random seed". */
export const LLAMA_MAX_SEED = MAX_UINT32_SEED;

/**
 * The llama.cpp seed for a request's (or the model's default) integer seed (`uint32Seed`, shared with onnx): 0 to
 * 0xFFFFFFFE as is, any other integer hashed into that range. Passed on unchanged, 0xFFFFFFFF (and every integer
 * congruent to it mod 2^32, Number.MAX_SAFE_INTEGER among them) sampled randomly on every call, and other seeds
 * wrapped onto small ones (-1 sampled as 0, 2^32 + 11 as 11).
 */
export const llamaSeed: (seed: number) => number = uint32Seed;

/**
 * node-llama-cpp's `repeatPenalty` for OpenAI's penalties, or undefined when the request sets none (or only zeros:
 * the call is then the same as without them). llama.cpp's penalties sampler does what OpenAI documents, on the
 * logits before top-k, top-p and temperature: `logit -= count * frequencyPenalty + (count > 0) * presencePenalty`,
 * negative values included. To count what OpenAI counts (every token generated so far, newlines too; not the
 * prompt), the window is the whole answer and newline tokens are penalized (node-llama-cpp leaves them out by
 * default; its default window is the last 64). The window (`lastTokens`) is `maxTokens` capped at `contextSize`:
 * node-llama-cpp and llama.cpp allocate ring buffers of that many tokens up front, and the answer cannot outgrow the
 * context (the engine turns context shift off), so a larger window would only cost memory (maxTokens 5e7: +400 MB).
 * `penalty` (llama.cpp's multiplicative repeat penalty) stays off (1), as without the fields.
 */
export function ggufRepeatPenalty(
  sampling: GgufSampling,
  contextSize: number,
): { lastTokens: number; penalizeNewLine: true; frequencyPenalty: number; presencePenalty: number } | undefined {
  const frequencyPenalty = sampling.frequencyPenalty ?? 0;
  const presencePenalty = sampling.presencePenalty ?? 0;
  if (frequencyPenalty === 0 && presencePenalty === 0) return undefined;
  return { lastTokens: Math.min(sampling.maxTokens, contextSize), penalizeNewLine: true, frequencyPenalty, presencePenalty };
}
