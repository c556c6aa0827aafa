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
 * The finish of an answer (`reason` undefined: the provider gave none), by whether it holds tool calls.
 *
 * With tool calls: `tool-calls` where the provider said `stop` or gave no reason. OpenAI ends a call it was forced to
 * make (`tool_choice` a function, or `"required"`) with `stop` (vLLM does for a named tool_choice); the answer did stop
 * to call a tool, as Anthropic's `tool_use` and Gemini's `STOP` with function calls say. Any other finish stays: after
 * `length`, `content-filter` or a reason we do not know (vLLM's and SGLang's `abort`, as `other`) the calls may be cut
 * short.
 *
 * Without any: `stop` where the provider said `tool_calls` (vLLM and Ollama do when their tool parser fails on the
 * model's output, which then stays in the content). The answer is that text, ended by the model; `tool-calls` would
 * promise calls that are not there (an agent loop answering each call, the gateway's `stop_reason: "tool_use"` and
 * `finish_reason: "tool_calls"`), so it is reported as the Anthropic and Gemini engines report a tool stop without
 * calls. `other` where the provider gave no reason.
 */
export function finishOfAnswer(reason: FinishReason | undefined, hasToolCalls: boolean): FinishReason {
  if (hasToolCalls) return reason === 'stop' || reason === undefined ? 'tool-calls' : reason;
  return reason === 'tool-calls' ? 'stop' : (reason ?? 'other');
}
