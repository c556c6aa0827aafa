import { estimateTokens } from '../../pricing/estimate-tokens.js';
import type { GenerateResult } from '../../spec/engine-v1.js';
import { convertOpenAIUsage } from './convert-openai-usage.js';
import { mapOpenAIFinishReason } from './map-openai-finish-reason.js';
import type { OpenAIChatResponse } from './openai-wire-schemas.js';

/** A parsed chat-completions response -> GenerateResult. Usage is estimated (and marked) when absent. */
export function convertOpenAIChatResponse(response: OpenAIChatResponse, estimateInputTokens: () => number): GenerateResult {
  // The schema guarantees at least one choice.
  const choice = response.choices[0]!;
  const message = choice.message;
  const text = message.content ?? message.refusal ?? '';
  const reasoning = message.reasoning_content ?? message.reasoning ?? undefined;
  const toolCalls = (message.tool_calls ?? []).map((c, i) => ({
    id: c.id ?? `call_${response.id ?? 'response'}_${i}`,
    name: c.function.name,
    arguments: c.function.arguments ?? '',
  }));
  let usage;
  if (response.usage) {
    usage = convertOpenAIUsage(response.usage);
  } else {
    const inputTokens = estimateInputTokens();
    const outputText = text + (reasoning ?? '') + toolCalls.map((c) => c.name + c.arguments).join('');
    const outputTokens = estimateTokens(outputText);
    usage = { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens, estimated: true };
  }
  return {
    text,
    toolCalls,
    finishReason: mapOpenAIFinishReason(choice.finish_reason),
    usage,
    ...(response.id ? { id: response.id } : {}),
    ...(response.model ? { providerModel: response.model } : {}),
    ...(reasoning ? { reasoning } : {}),
  };
}
