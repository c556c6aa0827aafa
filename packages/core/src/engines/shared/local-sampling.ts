import { LLMError } from '../../errors/llm-error.js';
import type { GenerateRequest } from '../../spec/index.js';

/** The sampling settings of one request to a local model engine, after defaults. */
export interface LocalSampling {
  maxTokens: number;
  /** 0 = greedy. */
  temperature: number;
  /** In (0, 1]; undefined: no nucleus limit (a requested 0 becomes temperature 0). */
  topP: number | undefined;
  /** Sample only from the K most likely tokens (`request.topK`); undefined: no such limit. */
  topK: number | undefined;
  seed: number | undefined;
  stop: string[];
}

/** A local engine's default sampling settings (from its model `options`). */
export interface LocalSamplingDefaults {
  maxTokens: number;
  temperature: number;
  topP?: number | undefined;
  seed?: number | undefined;
}

/** Refuses a request that asks for tools (unless `toolChoice` is `none`): `unsupported`, naming the engine. */
export function refuseTools(request: GenerateRequest, provider: string): void {
  if (request.tools && request.tools.length > 0 && request.toolChoice !== 'none') {
    throw new LLMError({ code: 'unsupported', message: `tools: the ${provider} engine does not support tool calling`, param: 'tools', provider });
  }
}

function invalid(param: string, message: string, provider: string): LLMError {
  return new LLMError({ code: 'invalid_request', message: `${param}: ${message}`, param, provider });
}

/** Checks a request's sampling fields (`invalid_request` naming the field) and fills in the defaults. Empty stop strings are dropped. */
export function resolveLocalSampling(request: GenerateRequest, defaults: LocalSamplingDefaults, provider: string): LocalSampling {
  const { maxTokens, temperature, topP, topK, seed, stop } = request;
  if (maxTokens !== undefined && !(Number.isInteger(maxTokens) && maxTokens > 0)) throw invalid('maxTokens', 'must be a positive integer', provider);
  if (temperature !== undefined && !(Number.isFinite(temperature) && temperature >= 0)) throw invalid('temperature', 'must be a number >= 0', provider);
  if (topP !== undefined && !(Number.isFinite(topP) && topP >= 0 && topP <= 1)) throw invalid('topP', 'must be in [0, 1]', provider);
  if (topK !== undefined && !(Number.isInteger(topK) && topK >= 1)) throw invalid('topK', 'must be an integer >= 1', provider);
  if (seed !== undefined && !Number.isInteger(seed)) throw invalid('seed', 'must be an integer', provider);
  if (stop !== undefined && (!Array.isArray(stop) || stop.some((s) => typeof s !== 'string'))) throw invalid('stop', 'must be an array of strings', provider);
  const p = topP ?? defaults.topP;
  return {
    maxTokens: maxTokens ?? defaults.maxTokens,
    // topP 0 (OpenAI's range is [0, 1]) keeps only the most likely token: greedy, as temperature 0.
    temperature: p === 0 ? 0 : (temperature ?? defaults.temperature),
    topP: p === 0 ? undefined : p,
    topK,
    seed: seed ?? defaults.seed,
    stop: (stop ?? []).filter((s) => s !== ''),
  };
}
