/** The ids Anthropic takes for `tool_use.id` and `tool_result.tool_use_id` (else 400 "String should match pattern"). */
const TOOL_USE_ID = /^[a-zA-Z0-9_-]+$/;

/**
 * A tool call id as Anthropic takes it: unchanged when it fits `^[a-zA-Z0-9_-]+$` (Anthropic's own `toolu_...`,
 * OpenAI's and DeepSeek's `call_...`); otherwise (a turn another provider answered: Kimi's `functions.weather:0`,
 * a Codex `call_1|fc_2`, an empty id) each other character becomes `_` and a hash of the whole id is appended, so
 * two ids that differ only there stay two. A pure function of the id: a call and the result that names it get the
 * same id, in every request of the conversation.
 */
export function anthropicToolUseId(id: string): string {
  if (TOOL_USE_ID.test(id)) return id;
  let h = 2166136261;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619);
  return `${id.replace(/[^a-zA-Z0-9_-]/g, '_')}_${(h >>> 0).toString(16).padStart(8, '0')}`;
}

/**
 * The id of the `index`-th tool call (JSON mode's tool left out) of the answer `messageId`: the upstream's `tool_use`
 * id, or, when it sent an empty one (an Anthropic-compatible server), `toolu_<messageId>_<index>` (fitted to the
 * pattern by `anthropicToolUseId`; `response` for a missing message id), the same streamed or not
 * (`AnthropicStreamDecoder`, `convertAnthropicResponse`), as the OpenAI-compatible engine makes up `call_<id>_<index>`:
 * a client cannot answer a call with no id (every route refuses an empty id on the next turn).
 */
export function anthropicAnswerToolUseId(id: string | undefined, messageId: string | undefined, index: number): string {
  return id || anthropicToolUseId(`toolu_${messageId || 'response'}_${index}`);
}
