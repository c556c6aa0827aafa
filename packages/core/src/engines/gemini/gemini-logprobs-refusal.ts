import { LLMError } from '../../errors/llm-error.js';
import type { GeminiGenerateContentRequest } from './gemini-api-types.js';

/**
 * True for Gemini's answer to `responseLogprobs` on a model that gives no log probabilities: 400 INVALID_ARGUMENT
 * "Logprobs is not enabled for models/<id>" (gemini-2.5-pro and others; googleapis/python-genai#1921), or, from
 * earlier models, "Logprobs is not supported for the current model" (gemini-1.5-flash-002;
 * google-gemini/deprecated-generative-ai-js#421). The API has no error reason for it, only the message.
 */
export function isGeminiLogprobsRefusal(e: unknown): boolean {
  return LLMError.isInstance(e) && e.statusCode === 400 && /logprobs is not (?:enabled|supported)/i.test(e.message);
}

/** True when `body` asks for log probabilities (`generationConfig.responseLogprobs: true`). */
export function asksLogprobs(body: Readonly<GeminiGenerateContentRequest>): boolean {
  const config: unknown = body.generationConfig;
  return typeof config === 'object' && config !== null && (config as Record<string, unknown>).responseLogprobs === true;
}

/** `body` without `generationConfig.responseLogprobs` and `generationConfig.logprobs` (a copy; `body` is unchanged). */
export function withoutLogprobs(body: Readonly<GeminiGenerateContentRequest>): GeminiGenerateContentRequest {
  const config = { ...body.generationConfig };
  delete config.responseLogprobs;
  delete config.logprobs;
  return { ...body, generationConfig: config };
}
