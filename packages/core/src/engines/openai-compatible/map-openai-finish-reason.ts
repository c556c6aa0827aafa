import type { FinishReason } from '../../spec/usage.js';

/** OpenAI `finish_reason` -> our FinishReason. */
export function mapOpenAIFinishReason(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case 'stop':
      return 'stop';
    case 'length':
      return 'length';
    case 'tool_calls':
    case 'function_call':
      return 'tool-calls';
    case 'content_filter':
      return 'content-filter';
    default:
      return 'other';
  }
}

/**
 * The finish of an answer that holds tool calls (`reason` undefined: the provider gave none): `tool-calls` where the
 * provider said `stop` or gave no reason. OpenAI ends a call it was forced to make (`tool_choice` a function, or
 * `"required"`) with `stop` (vLLM does for a named tool_choice); the answer did stop to call a tool, as Anthropic's
 * `tool_use` and Gemini's `STOP` with function calls say. Any other finish stays: after `length`, `content-filter`
 * or a reason we do not know (vLLM's and SGLang's `abort`, as `other`) the calls may be cut short.
 */
export function finishWithToolCalls(reason: FinishReason | undefined): FinishReason {
  return reason === 'stop' || reason === undefined ? 'tool-calls' : reason;
}
