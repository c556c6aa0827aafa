import { LLMError } from '../../errors/llm-error.js';

/** Bad or missing routing data: an `invalid_request` LLMError naming the file and the field. */
export function datasetError(file: string, message: string, field?: string): LLMError {
  return new LLMError({
    code: 'invalid_request',
    message: `Routing data ${file}: ${field ? `${field}: ` : ''}${message}`,
    param: field ?? 'data',
  });
}
