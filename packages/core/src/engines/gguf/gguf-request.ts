import type { GenerateRequest } from '../../spec/index.js';
import { refuseTools, resolveLocalSampling, type LocalSampling } from '../shared/local-sampling.js';
import { checkReasoning } from '../shared/reasoning.js';
import type { GgufOptions } from './gguf-options.js';

/** The sampling settings of one request, after defaults. */
export type GgufSampling = LocalSampling;

/** Checks a request's sampling fields and fills in the model's defaults. Tools are refused (not supported); a thinking effort/budget is checked and dropped (with a `setting_not_sent` warning: `localRequestWarnings`). */
export function resolveSampling(request: GenerateRequest, options: GgufOptions): GgufSampling {
  refuseTools(request, 'gguf');
  // No reasoning control: a valid `reasoning` is dropped (a hint, like on any deployment that cannot reason).
  checkReasoning(request.reasoning, 'gguf');
  return resolveLocalSampling(request, options, 'gguf');
}
