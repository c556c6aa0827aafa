import { LLMError } from '../../errors/llm-error.js';
import type { GenerateResult } from '../../spec/engine-v1.js';
import type { ToolCall } from '../../spec/messages.js';
import type { GeminiGenerateContentResponse } from './gemini-api-types.js';
import { convertGeminiLogprobs } from './convert-gemini-logprobs.js';
import { geminiToolCallId } from './gemini-tool-call-id.js';
import { convertGeminiUsage } from './gemini-usage.js';
import { geminiFinishError, mapGeminiFinishReason } from './map-gemini-finish-reason.js';

export interface GeminiResponseContext {
  provider: string;
  deployment?: string;
  /** Called with each function call's thought signature, so the next turn can send it back. */
  onThoughtSignature?: (toolCallId: string, signature: string) => void;
}

/**
 * A :generateContent answer -> our result (first candidate). Thought parts become `reasoning`; function
 * calls get stable ids; a prompt blocked before any candidate is an empty answer with `content-filter`; a failed tool
 * call (`MALFORMED_FUNCTION_CALL`, `UNEXPECTED_TOOL_CALL`) is an `invalid_response` error carrying the usage Gemini
 * reported (`REPORTED_USAGE`: it billed the answer); the
 * candidate's `logprobsResult` becomes `logprobs` (`convertGeminiLogprobs`).
 */
export function convertGeminiResponse(json: unknown, ctx: GeminiResponseContext): GenerateResult {
  if (typeof json !== 'object' || json === null) {
    throw new LLMError({ code: 'invalid_response', message: `${ctx.provider}: response is not an object`, provider: ctx.provider, deployment: ctx.deployment, details: json });
  }
  const response = json as GeminiGenerateContentResponse;
  const candidate = response.candidates?.[0];
  if (!candidate && !response.promptFeedback?.blockReason) {
    throw new LLMError({ code: 'invalid_response', message: `${ctx.provider}: response has no candidates`, provider: ctx.provider, deployment: ctx.deployment, details: json });
  }
  // The model failing to make a tool call: no usable answer (see `geminiFinishError`), with the usage Gemini billed it.
  const failed = geminiFinishError(candidate?.finishReason, candidate?.finishMessage, { provider: ctx.provider, deployment: ctx.deployment }, convertGeminiUsage(response.usageMetadata));
  if (failed) throw failed;
  let text = '';
  let reasoning = '';
  const toolCalls: ToolCall[] = [];
  for (const part of candidate?.content?.parts ?? []) {
    if (part.functionCall) {
      const id = geminiToolCallId(part.functionCall, toolCalls.length, response.responseId);
      if (part.thoughtSignature) ctx.onThoughtSignature?.(id, part.thoughtSignature);
      toolCalls.push({ id, name: part.functionCall.name, arguments: JSON.stringify(part.functionCall.args ?? {}) });
    } else if (typeof part.text === 'string') {
      if (part.thought) reasoning += part.text;
      else text += part.text;
    }
  }
  const result: GenerateResult = {
    text,
    toolCalls,
    finishReason: candidate ? mapGeminiFinishReason(candidate.finishReason, toolCalls.length > 0) : 'content-filter',
    usage: convertGeminiUsage(response.usageMetadata),
  };
  if (response.responseId !== undefined) result.id = response.responseId;
  if (response.modelVersion !== undefined) result.providerModel = response.modelVersion;
  if (reasoning !== '') result.reasoning = reasoning;
  const logprobs = convertGeminiLogprobs(candidate?.logprobsResult);
  if (logprobs) result.logprobs = logprobs;
  return result;
}
