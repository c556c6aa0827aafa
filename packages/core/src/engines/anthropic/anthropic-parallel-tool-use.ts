import type { GenerateRequest } from '../../spec/messages.js';
import type { AnthropicMessagesRequest } from './anthropic-api-types.js';
import type { AnthropicCallWarnings } from './anthropic-call-warnings.js';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * `parallelToolCalls: false` -> `tool_choice.disable_parallel_tool_use: true` on a body whose `tools` are set (the
 * request's, JSON mode's answer tool, or verbatim ones); called once the body is final, `providerOptions.anthropic`
 * merged. Anthropic's parallel tool use guide: with `auto` Claude then uses at most one tool, with `any` and `tool`
 * exactly one (JSON mode's forced answer tool included: one real call or the JSON answer, never both).
 * - no `tool_choice` in the body: `{ type: "auto", disable_parallel_tool_use: true }` (what Anthropic does without one,
 *   one tool at most); with thinking too, which refuses only forced choices (`any`, `tool`), never `auto`;
 * - `none`: left as it is (no tool call can happen; `ToolChoiceNone` takes no such field and the API refuses it);
 * - `verbatimToolChoice` (a `providerOptions.anthropic.tool_choice` was merged): it wins and is sent as given; when it
 *   neither is `none` nor carries `disable_parallel_tool_use: true`, a `setting_not_sent` warning (`parallelToolCalls`).
 * `true` or absent, or no tools in the body: nothing (Anthropic's default allows several tool uses).
 */
export function applyParallelToolUse(body: AnthropicMessagesRequest, request: GenerateRequest, verbatimToolChoice: boolean, notes: AnthropicCallWarnings): void {
  if (request.parallelToolCalls !== false || !Array.isArray(body.tools) || body.tools.length === 0) return;
  const choice: unknown = body.tool_choice;
  if (verbatimToolChoice) {
    if (isRecord(choice) && (choice.type === 'none' || choice.disable_parallel_tool_use === true)) return;
    notes.add(
      'setting_not_sent',
      'parallelToolCalls',
      'parallelToolCalls false was not sent: providerOptions.anthropic.tool_choice replaced the tool_choice that carries disable_parallel_tool_use.',
    );
    return;
  }
  if (choice === undefined) body.tool_choice = { type: 'auto', disable_parallel_tool_use: true };
  else if (body.tool_choice && body.tool_choice.type !== 'none') body.tool_choice = { ...body.tool_choice, disable_parallel_tool_use: true };
}
