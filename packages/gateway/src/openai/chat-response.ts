import type { RouterResult } from '@llmrr/core';
import { llmrrInfo } from '../http/llmrr-info.js';
import { answerUsage } from '../schemas/answer-usage.js';
import type { OpenAIChatResponse } from '../schemas/openai-chat.js';
import { toOpenAIFinishReason } from './finish-reason.js';
import { toChatLogprobs } from './openai-logprobs.js';
import { toOpenAIUsage } from './usage.js';

export function chatCompletionId(requestId: string): string {
  return `chatcmpl-${requestId}`;
}

/**
 * A router result as an OpenAI `chat.completion` object; `logprobs` holds the answer's token log probabilities when
 * the request asked for them (`options.logprobs`) and the answer has them, else null (an answer that has them, say
 * from a cache, is never rendered with them for a request that did not ask). `legacyFunctions` (the request gave
 * legacy `functions`): the answer's first tool call is `message.function_call` and a tool-call finish is
 * `function_call`, as OpenAI answers such a request (one call: it is sent `parallelToolCalls: false`); further calls (a
 * provider that made several anyway) are left out: a legacy client reads only `function_call`, and one that gives the
 * message back would send calls it never answers (see the gateway README); `legacyCallsWarning` says so in the header.
 */
export function toChatCompletion(result: RouterResult, options: { created: number; explain: boolean; logprobs?: boolean; legacyFunctions?: boolean }): OpenAIChatResponse {
  const toolCalls = result.toolCalls.map((c) => ({ id: c.id, type: 'function' as const, function: { name: c.name, arguments: c.arguments } }));
  const legacy = options.legacyFunctions === true && toolCalls.length > 0;
  // A refusal goes as OpenAI sends one: `message.refusal`, with `content: null` when there is no content (the SDK's
  // `parse()` reads it so); content the answer had before it refused stays `content`.
  const refusal = result.refusal ?? null;
  const message: OpenAIChatResponse['choices'][number]['message'] = {
    role: 'assistant',
    content: result.text === '' && (toolCalls.length > 0 || refusal !== null) ? null : result.text,
    refusal,
  };
  if (legacy) message.function_call = toolCalls[0]!.function;
  else if (toolCalls.length > 0) message.tool_calls = toolCalls;
  if (result.reasoning) message.reasoning_content = result.reasoning;
  return {
    id: chatCompletionId(result.requestId),
    object: 'chat.completion',
    created: options.created,
    model: result.deployment,
    system_fingerprint: null,
    choices: [{ index: 0, message, logprobs: options.logprobs === true && result.logprobs ? toChatLogprobs(result.logprobs) : null, finish_reason: toOpenAIFinishReason(result.finishReason, options.legacyFunctions) }],
    usage: toOpenAIUsage(answerUsage(result)),
    llmrr: llmrrInfo(result, options.explain),
  };
}
