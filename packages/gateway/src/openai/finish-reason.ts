import type { FinishReason } from '@llmrr/core';

export type OpenAIFinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';

/** `legacyFunctions`: the request gave legacy `functions`, whose tool-call answer finishes with `function_call`. */
export function toOpenAIFinishReason(reason: FinishReason, legacyFunctions = false): OpenAIFinishReason {
  switch (reason) {
    case 'length':
      return 'length';
    case 'tool-calls':
      return legacyFunctions ? 'function_call' : 'tool_calls';
    case 'content-filter':
      return 'content_filter';
    default:
      return 'stop';
  }
}
