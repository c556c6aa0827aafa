import { LLMError, type CallWarning, type ChatMessage, type RouterResult, type ToolCall, type ToolChoice, type ToolDefinition } from '@llmrr/core';
import type { JoinedMessagePath } from '../schemas/client-message-paths.js';
import type { OpenAIChatMessage, OpenAIChatRequest } from '../schemas/openai-chat.js';
import type { ToolPaths } from '../schemas/tool-choice-conflict.js';

// Legacy function calling (openai 6.x `functions` / `function_call`, deprecated but served by OpenAI and sent by older
// LangChain and openai-python code) as core's tools: `functions` are the request's tools, `function_call` its tool
// choice, an assistant turn's `function_call` its one tool call and a `function` message that call's result. The
// answer goes back in the same form (`message.function_call`, finish_reason `function_call`): see chat-response.ts.

/**
 * The id of the call made by the legacy `function_call` of message `index` (the client's calls have no id): the
 * `function` message after it answers it with the same id.
 */
export function legacyCallId(index: number): string {
  return `call_fn_${index}`;
}

/** An assistant message's legacy `function_call` as its tool call. */
export function legacyToolCall(call: { name: string; arguments: string }, index: number): ToolCall {
  return { id: legacyCallId(index), name: call.name, arguments: call.arguments };
}

/**
 * A `function` message as core's tool message: the result of the call of the latest assistant `function_call` before it
 * (`callAt`, its message index; none: an id of its own, the function `name` saying what it answers, as Gemini takes it).
 */
export function functionResult(m: Extract<OpenAIChatMessage, { role: 'function' }>, index: number, callAt: number | undefined): ChatMessage {
  return { role: 'tool', toolCallId: legacyCallId(callAt ?? index), content: m.content ?? '', name: m.name };
}

/**
 * Where the client wrote the fields of message `index` when it is a legacy turn, else undefined (core's paths are the
 * client's): an assistant `function_call` is core's last tool call of the turn (`messages.N.function_call.arguments`,
 * `.name`; any `tool_calls` before it keep theirs, `messages.N.tool_calls.K.function.arguments`); a `function`
 * message's call id is its `name` (the client sent no `tool_call_id`).
 */
export function legacyMessagePath(m: OpenAIChatMessage, index: number): JoinedMessagePath | undefined {
  const path = `messages.${index}`;
  if (m.role === 'function') return { path, fields: { toolCallId: 'name' } };
  if (m.role !== 'assistant' || !m.function_call) return undefined;
  const toolCalls = (m.tool_calls ?? []).map((_, k) => `${path}.tool_calls.${k}.function`);
  toolCalls.push(`${path}.function_call`);
  return { path, toolCalls };
}

/**
 * A legacy `functions` answer's warning when the provider made more calls than the one `function_call` carries (see
 * `toChatCompletion`); undefined otherwise. A stream's header goes out before its calls are known: none there.
 */
export function legacyCallsWarning(result: RouterResult): readonly CallWarning[] | undefined {
  const calls = result.toolCalls.length;
  if (calls < 2) return undefined;
  return [
    {
      code: 'setting_changed',
      field: 'functions',
      message: `The provider made ${calls} function calls: a legacy function_call answer carries the first only, the other ${calls - 1} are left out.`,
    },
  ];
}

/** `functions` as core's tools. */
export function legacyTools(functions: NonNullable<OpenAIChatRequest['functions']>): ToolDefinition[] {
  return functions.map((f) => ({
    name: f.name,
    ...(f.description !== undefined ? { description: f.description } : {}),
    parameters: f.parameters ?? { type: 'object', properties: {} },
  }));
}

/** Where a request with `functions` (or `function_call`) has its tools and tool choice. */
export function legacyToolPaths(body: Pick<OpenAIChatRequest, 'functions' | 'function_call' | 'tools'>, chat: ToolPaths): ToolPaths {
  const functions = body.functions !== undefined || (body.tools === undefined && body.function_call !== undefined);
  const functionCall = body.function_call !== undefined;
  return {
    name: body.functions !== undefined ? (i) => `functions.${i}.name` : chat.name,
    choiceName: functionCall ? 'function_call.name' : chat.choiceName,
    // The messages name the fields the client sent (`functions.1`, `function_call`), as the params do.
    words: { tools: functions ? 'functions' : 'tools', tool: functions ? 'function' : 'tool', choice: functionCall ? 'function_call' : 'tool_choice' },
  };
}

function refused(param: string, message: string): LLMError {
  return new LLMError({ code: 'invalid_request', message: `Invalid request: ${param}: ${message}`, param });
}

/**
 * The request's tools from `functions` (or `tools`) and its tool choice from `function_call` (or `tool_choice`): a
 * request gives one form of each, never both (which one would the answer follow?).
 */
export function legacyToolFields(body: OpenAIChatRequest): { tools: ToolDefinition[] | undefined; choice: ToolChoice | undefined } {
  let tools: ToolDefinition[] | undefined;
  if (body.functions !== undefined && body.functions.length > 0) {
    if (body.tools !== undefined && body.tools.length > 0) throw refused('functions', 'functions and tools cannot both be given (functions is the deprecated form of tools)');
    tools = legacyTools(body.functions);
  }
  let choice: ToolChoice | undefined;
  const call = body.function_call;
  if (call !== undefined) {
    if (body.tool_choice !== undefined) throw refused('function_call', 'function_call and tool_choice cannot both be given (function_call is the deprecated form of tool_choice)');
    choice = typeof call === 'string' ? call : { name: call.name };
  }
  return { tools, choice };
}
