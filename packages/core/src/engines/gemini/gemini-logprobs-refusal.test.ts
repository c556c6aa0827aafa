import { describe, expect, it } from 'vitest';
import { LLMError } from '../../errors/llm-error.js';
import { isGeminiLogprobsRefusal } from './gemini-logprobs-refusal.js';

describe('isGeminiLogprobsRefusal', () => {
  const err = (statusCode: number, message: string) => new LLMError({ code: 'invalid_request', message, statusCode });

  it('knows both wordings of the refusal, on a 400 only', () => {
    expect(isGeminiLogprobsRefusal(err(400, 'Logprobs is not enabled for models/gemini-2.5-pro'))).toBe(true);
    expect(isGeminiLogprobsRefusal(err(400, 'Logprobs is not supported for the current model.'))).toBe(true);
    expect(isGeminiLogprobsRefusal(err(400, 'Penalty is not enabled for models/gemini-2.5-pro'))).toBe(false);
    expect(isGeminiLogprobsRefusal(err(500, 'Logprobs is not enabled for models/x'))).toBe(false);
    expect(isGeminiLogprobsRefusal(new Error('Logprobs is not enabled'))).toBe(false);
  });
});
