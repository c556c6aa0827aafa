/**
 * DeepSeek's thinking-mode check of a tool loop, for the local OpenAI wire server's scripts (test-only:
 * `*.test-helpers.ts` is left out of the build). Its Thinking Mode guide (https://api-docs.deepseek.com/guides/thinking_mode)
 * says: between two user messages (or after the last one), if the model performed a tool call, the assistant turns
 * there must pass their `reasoning_content` back; every assistant turn of such a span, the text answer after the
 * tool results too (MoonshotAI/kimi-cli#2141), else 400.
 */
import type { OpenAIWireScript, RecordedRequest } from './openai-wire-server.js';

/** DeepSeek's message for a tool turn sent back without its reasoning. */
export const DEEPSEEK_MISSING_REASONING = 'The reasoning_content in the thinking mode must be passed back to the API.';

/** The 400 DeepSeek answers `request` with when a span with tool calls has an assistant turn without reasoning_content; else undefined. */
export function deepseekReasoningRefusal(request: RecordedRequest): OpenAIWireScript | undefined {
  const messages = (request.body as { messages?: Array<Record<string, unknown>> }).messages ?? [];
  let span: Array<Record<string, unknown>> = [];
  const spans = [span];
  for (const m of messages) {
    if (m.role === 'user') spans.push((span = []));
    else if (m.role === 'assistant') span.push(m);
  }
  const bad = spans.some((s) => s.some((m) => Array.isArray(m.tool_calls) && m.tool_calls.length > 0) && s.some((m) => typeof m.reasoning_content !== 'string'));
  return bad ? { error: { status: 400, message: DEEPSEEK_MISSING_REASONING, type: 'invalid_request_error', code: 'invalid_request_error' } } : undefined;
}
