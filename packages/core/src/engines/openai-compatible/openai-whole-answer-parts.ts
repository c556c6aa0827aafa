import type { StreamPart } from '../../spec/stream-parts.js';
import type { CallWarning } from '../../spec/warnings.js';
import { convertOpenAIChatResponse, readOpenAIChatResponse } from './convert-openai-chat-response.js';
import { openAIStreamError, topLevelStreamError } from './map-openai-error.js';

export interface WholeAnswerOptions {
  provider: string;
  deployment?: string;
  estimateInputTokens: () => number;
  warnings?: CallWarning[] | undefined;
  logprobs?: boolean | undefined;
}

/**
 * The stream parts of a JSON body sent in answer to a stream request (a server or proxy that ignores
 * `stream: true` and answers the whole completion): a chat completion becomes what its stream would have given
 * (`convertOpenAIChatResponse`: response metadata, reasoning, text, refusal, logprobs, tool calls, a finish with its
 * usage), an error object (`{error: ...}`, vLLM's `object: "error"`, FastChat's `error_code`) the error part an
 * error chunk gives (`openAIStreamError`: the 200 went out). Anything else: undefined (the body is read as SSE,
 * which ends `stream_interrupted`). Used by `OpenAIStreamDecoder.whole` for a body that starts with `{`.
 */
export function openAIWholeAnswerParts(json: unknown, options: WholeAnswerOptions): StreamPart[] | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const body = json as Record<string, unknown>;
  const errorObject = body.error != null && !Array.isArray(body.choices) ? body.error : topLevelStreamError(json);
  if (errorObject !== undefined) return [{ type: 'error', error: openAIStreamError(errorObject, options) }];
  const read = readOpenAIChatResponse(json);
  if (!read.ok) return undefined;
  const result = convertOpenAIChatResponse(read.response, options.estimateInputTokens, options.logprobs === true);
  const parts: StreamPart[] = [];
  if (options.warnings && options.warnings.length > 0) parts.push({ type: 'warnings', warnings: options.warnings });
  if (result.id !== undefined || result.providerModel !== undefined) {
    const metadata: Extract<StreamPart, { type: 'response-metadata' }> = { type: 'response-metadata' };
    if (result.id !== undefined) metadata.id = result.id;
    if (result.providerModel !== undefined) metadata.model = result.providerModel;
    parts.push(metadata);
  }
  if (result.reasoning) parts.push({ type: 'reasoning-delta', delta: result.reasoning });
  if (result.text) parts.push({ type: 'text-delta', delta: result.text });
  if (result.logprobs && result.logprobs.length > 0) parts.push({ type: 'logprobs', logprobs: result.logprobs });
  if (result.refusal) parts.push({ type: 'text-delta', delta: result.refusal, refusal: true });
  result.toolCalls.forEach((call, index) => {
    parts.push({ type: 'tool-call-delta', index, id: call.id, name: call.name, argumentsDelta: call.arguments });
  });
  result.toolCalls.forEach((call, index) => {
    parts.push({ type: 'tool-call', index, toolCall: call });
  });
  // As the stream decoder: a `usage` part only for the provider's own count (the finish carries an estimate).
  if (!result.usage.estimated) parts.push({ type: 'usage', usage: result.usage });
  parts.push({ type: 'finish', finishReason: result.finishReason, usage: result.usage });
  return parts;
}
