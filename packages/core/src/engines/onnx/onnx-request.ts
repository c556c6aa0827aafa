import { LLMError } from '../../errors/llm-error.js';
import type { GenerateRequest } from '../../spec/index.js';
import { refuseTools, resolveLocalSampling, type LocalSampling } from '../shared/local-sampling.js';
import { checkReasoning } from '../shared/reasoning.js';
import type { OnnxOptions } from './onnx-options.js';

/** The sampling settings of one request, after defaults. */
export type OnnxSampling = LocalSampling;

/** Checks a request's sampling fields and fills in the model's defaults. Tools and JSON mode are refused (not supported); a thinking effort/budget is checked and dropped (with a `setting_not_sent` warning: `localRequestWarnings`). */
export function resolveSampling(request: GenerateRequest, options: OnnxOptions): OnnxSampling {
  refuseTools(request, 'onnx');
  // No reasoning control: a valid `reasoning` is dropped (a hint, like on any deployment that cannot reason).
  checkReasoning(request.reasoning, 'onnx');
  if (request.responseFormat && request.responseFormat.type !== 'text') {
    throw new LLMError({
      code: 'unsupported',
      message: 'responseFormat: the onnx engine has no constrained (JSON) decoding',
      param: 'responseFormat',
      provider: 'onnx',
    });
  }
  return resolveLocalSampling(request, options, 'onnx');
}
