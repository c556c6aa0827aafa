import type { GenerateRequest } from '../../spec/index.js';
import { refuseTools, resolveLocalSampling, type LocalSampling } from '../shared/local-sampling.js';
import { refuseReasoning } from '../shared/reasoning.js';
import type { GgufOptions } from './gguf-options.js';

/** The sampling settings of one request, after defaults. */
export type GgufSampling = LocalSampling;

/** Checks a request's sampling fields and fills in the model's defaults. Tools and thinking effort/budget are refused (not supported). */
export function resolveSampling(request: GenerateRequest, options: GgufOptions): GgufSampling {
  refuseTools(request, 'gguf');
  refuseReasoning(request, 'gguf');
  return resolveLocalSampling(request, options, 'gguf');
}
