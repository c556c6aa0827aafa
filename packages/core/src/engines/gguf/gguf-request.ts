import { LLMError } from '../../errors/llm-error.js';
import type { GenerateRequest } from '../../spec/index.js';
import type { GgufOptions } from './gguf-options.js';

/** The sampling settings of one request, after defaults. */
export interface GgufSampling {
  maxTokens: number;
  /** 0 = greedy. */
  temperature: number;
  topP: number | undefined;
  seed: number | undefined;
  stop: string[];
}

function invalid(param: string, message: string): LLMError {
  return new LLMError({ code: 'invalid_request', message: `${param}: ${message}`, param, provider: 'gguf' });
}

/** Checks a request's sampling fields and fills in the model's defaults. Tools are refused (not supported). */
export function resolveSampling(request: GenerateRequest, options: GgufOptions): GgufSampling {
  if (request.tools && request.tools.length > 0 && request.toolChoice !== 'none') {
    throw new LLMError({ code: 'unsupported', message: 'tools: the gguf engine does not support tool calling', param: 'tools', provider: 'gguf' });
  }
  const { maxTokens, temperature, topP, seed, stop } = request;
  if (maxTokens !== undefined && !(Number.isInteger(maxTokens) && maxTokens > 0)) throw invalid('maxTokens', 'must be a positive integer');
  if (temperature !== undefined && !(Number.isFinite(temperature) && temperature >= 0)) throw invalid('temperature', 'must be a number >= 0');
  if (topP !== undefined && !(Number.isFinite(topP) && topP > 0 && topP <= 1)) throw invalid('topP', 'must be in (0, 1]');
  if (seed !== undefined && !Number.isInteger(seed)) throw invalid('seed', 'must be an integer');
  if (stop !== undefined && (!Array.isArray(stop) || stop.some((s) => typeof s !== 'string'))) throw invalid('stop', 'must be an array of strings');
  return {
    maxTokens: maxTokens ?? options.maxTokens,
    temperature: temperature ?? options.temperature,
    topP: topP ?? options.topP,
    seed: seed ?? options.seed,
    stop: (stop ?? []).filter((s) => s !== ''),
  };
}
