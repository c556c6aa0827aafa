import type { ClientFieldNames } from './client-field-names.js';
import { LOGPROBS_INCLUDE } from './responses-include-values.js';

// How each route's client names the core fields its converter sets (see `ClientFieldNames`): only those a client
// field of the route produces; the others (`seed`, `temperature`, `stop` on the OpenAI routes...) keep core's name.

/**
 * Core's call options a route's `llmrr` extension sets (a router's refusal of a fallback names `fallbacks.N`: the
 * client's `llmrr.fallbacks.N`).
 */
const LLMRR_FIELDS = { fallbacks: 'llmrr.fallbacks' } as const;

/** The client's names on `/v1/chat/completions` (openai/to-generate-request.ts), `maxTokens` as `max_completion_tokens`. */
const CHAT: ClientFieldNames = {
  fields: {
    ...LLMRR_FIELDS,
    maxTokens: 'max_completion_tokens',
    topP: 'top_p',
    frequencyPenalty: 'frequency_penalty',
    presencePenalty: 'presence_penalty',
    toolChoice: 'tool_choice',
    'toolChoice.name': 'tool_choice.function.name',
    parallelToolCalls: 'parallel_tool_calls',
    responseFormat: 'response_format',
    'responseFormat.name': 'response_format.json_schema.name',
    'responseFormat.description': 'response_format.json_schema.description',
    'responseFormat.schema': 'response_format.json_schema.schema',
    'responseFormat.strict': 'response_format.json_schema.strict',
    promptCacheKey: 'prompt_cache_key',
    reasoning: 'reasoning_effort',
    'reasoning.effort': 'reasoning_effort',
    topK: 'top_k',
    'logprobs.topLogprobs': 'top_logprobs',
    logitBias: 'logit_bias',
  },
  tool: { name: 'function.name', description: 'function.description', parameters: 'function.parameters', strict: 'function.strict' },
  // A tool message's `tool_call_id`, an assistant message's `tool_calls` (each call's name and arguments under its
  // `function`).
  message: { toolCallId: 'tool_call_id', toolCalls: 'tool_calls' },
  toolCall: { name: 'function.name', arguments: 'function.arguments' },
  mark: 'cache_control',
  // An image_url part's URL (a data: URL too: its media type and data).
  part: { url: 'image_url.url', mediaType: 'image_url.url', data: 'image_url.url' },
};

/** The same, for a body that set `max_tokens` (and no `max_completion_tokens`). */
const CHAT_MAX_TOKENS: ClientFieldNames = { ...CHAT, fields: { ...CHAT.fields, maxTokens: 'max_tokens' } };

/**
 * The client's names on `/v1/chat/completions`: `maxTokens` is whichever of its two fields the body set; core's tools
 * are its legacy `functions` (`functions.K.name`...) when it gave them (core's `parallelToolCalls`, without
 * `parallel_tool_calls`, is then the gateway's: `gatewaySet`), and its tool choice its `function_call`.
 */
export function chatFieldNames(body: {
  max_completion_tokens?: number | null | undefined;
  functions?: readonly unknown[] | undefined;
  function_call?: unknown;
  parallel_tool_calls?: boolean | null | undefined;
}): ClientFieldNames {
  const names = body.max_completion_tokens != null ? CHAT : CHAT_MAX_TOKENS;
  if (body.functions === undefined && body.function_call === undefined) return names;
  const fields: Record<string, string> = { ...names.fields };
  const legacy: { -readonly [K in keyof ClientFieldNames]: ClientFieldNames[K] } = { ...names, fields };
  if (body.functions !== undefined && body.functions.length > 0) {
    // A legacy function's fields are the function's own (`functions.K.parameters`).
    fields.tools = 'functions';
    delete legacy.tool;
    // Without `parallel_tool_calls`, core's `parallelToolCalls: false` is the gateway's own (the one call `functions`
    // asks for, see convertChatRequest): a provider that cannot be sent it is no news to the client, whose answer
    // carries one call anyway (`legacyCallsWarning`).
    if (body.parallel_tool_calls == null) legacy.gatewaySet = ['parallelToolCalls'];
  }
  if (body.function_call !== undefined) {
    fields.toolChoice = 'function_call';
    fields['toolChoice.name'] = 'function_call.name';
  }
  return legacy;
}

/**
 * The client's names on `/v1/completions` (`completionToGenerateRequest`): core's `messages` as a whole (a
 * capability or context-window refusal's param) is the `prompt`.
 */
export const COMPLETION_FIELD_NAMES: ClientFieldNames = {
  fields: { ...LLMRR_FIELDS, messages: 'prompt', maxTokens: 'max_tokens', topP: 'top_p', frequencyPenalty: 'frequency_penalty', presencePenalty: 'presence_penalty', topK: 'top_k', 'logprobs.topLogprobs': 'logprobs', logitBias: 'logit_bias' },
};

/**
 * The client's names on `/api/quick` (its `prompt` is core's one user message; `maxTokens` and `temperature` are
 * core's own names): core's `messages` as a whole (a capability or context-window refusal's param) is the `prompt`.
 */
export const QUICK_FIELD_NAMES: ClientFieldNames = { fields: { messages: 'prompt' } };

/**
 * The client's names on `/v1/responses` (responses/to-generate-request.ts) for a body that asked for logprobs with
 * `include: ["message.output_text.logprobs"]` as its first value (`include.0`, as the gateway's own warnings name
 * include values); `reasoning` is the client's own; core's `messages` as a whole (a capability or context-window
 * refusal's param) is `input` (a message of it is its item, from the message paths).
 */
const RESPONSES: ClientFieldNames = {
  fields: {
    ...LLMRR_FIELDS,
    messages: 'input',
    maxTokens: 'max_output_tokens',
    topP: 'top_p',
    toolChoice: 'tool_choice',
    parallelToolCalls: 'parallel_tool_calls',
    responseFormat: 'text.format',
    promptCacheKey: 'prompt_cache_key',
    verbosity: 'text.verbosity',
    logprobs: 'include.0',
    'logprobs.topLogprobs': 'top_logprobs',
  },
  // An input_image part's `image_url` (a URL or a data: URL, which is also its media type and data).
  part: { url: 'image_url', mediaType: 'image_url', data: 'image_url' },
};

/** The same, for a body whose end-user id came from `safety_identifier` (no `user`). */
const RESPONSES_SAFETY_ID: ClientFieldNames = { ...RESPONSES, fields: { ...RESPONSES.fields, user: 'safety_identifier' } };

/** The same two, for a body that asked for logprobs with `top_logprobs` alone (no `include` of them). */
const RESPONSES_TOP_LOGPROBS: ClientFieldNames = { ...RESPONSES, fields: { ...RESPONSES.fields, logprobs: 'top_logprobs' } };
const RESPONSES_SAFETY_ID_TOP_LOGPROBS: ClientFieldNames = { ...RESPONSES, fields: { ...RESPONSES_SAFETY_ID.fields, logprobs: 'top_logprobs' } };

/**
 * The client's names on `/v1/responses`: core's `user` is `user`, else `safety_identifier`; core's `logprobs` is
 * `include.N` (the index of its first `message.output_text.logprobs`), else `top_logprobs`, whichever asked for them.
 * A new table only when that include is not the first value.
 */
export function responsesFieldNames(body: { user?: string | null | undefined; include?: readonly string[] | null | undefined }): ClientFieldNames {
  const at = body.include == null ? -1 : body.include.indexOf(LOGPROBS_INCLUDE);
  const names = body.user ? (at < 0 ? RESPONSES_TOP_LOGPROBS : RESPONSES) : at < 0 ? RESPONSES_SAFETY_ID_TOP_LOGPROBS : RESPONSES_SAFETY_ID;
  return at > 0 ? { ...names, fields: { ...names.fields, logprobs: `include.${at}` } } : names;
}

/**
 * The client's names on `/v1/messages` and its `count_tokens` (anthropic/to-generate-request.ts): core's
 * `parallelToolCalls: false` is `tool_choice.disable_parallel_tool_use: true`, the thinking forms passed on under
 * `providerOptions.anthropic` are the client's `thinking` and `output_config`.
 */
export const MESSAGES_FIELD_NAMES: ClientFieldNames = {
  fields: {
    ...LLMRR_FIELDS,
    maxTokens: 'max_tokens',
    topP: 'top_p',
    stop: 'stop_sequences',
    toolChoice: 'tool_choice',
    parallelToolCalls: 'tool_choice.disable_parallel_tool_use',
    user: 'metadata.user_id',
    reasoning: 'thinking',
    'reasoning.budgetTokens': 'thinking.budget_tokens',
    'reasoning.effort': 'output_config.effort',
    topK: 'top_k',
    'providerOptions.anthropic.thinking': 'thinking',
    'providerOptions.anthropic.output_config': 'output_config',
  },
  tool: { parameters: 'input_schema' },
  mark: 'cache_control',
  // An image block's `source` (`{ type: "url", url }` or `{ type: "base64", media_type, data }`).
  part: { url: 'source.url', mediaType: 'source.media_type', data: 'source.data' },
  negated: ['parallelToolCalls'],
};

/**
 * The same, for a body with `thinking: {type: "disabled"}` (core's `reasoning.budgetTokens: 0`): the client sent no
 * `budget_tokens`, so a warning about that budget names `thinking` and reads `thinking disabled`.
 */
export const MESSAGES_THINKING_DISABLED_FIELD_NAMES: ClientFieldNames = {
  ...MESSAGES_FIELD_NAMES,
  fields: { ...MESSAGES_FIELD_NAMES.fields, 'reasoning.budgetTokens': 'thinking' },
  // The longer first: Gemini's warning explains the budget (`... 0 (a budget of 0 tokens) was sent as thinkingBudget 128`).
  phrases: { 'reasoning.budgetTokens 0 (a budget of 0 tokens)': 'thinking disabled', 'reasoning.budgetTokens 0': 'thinking disabled' },
};

/** The client's names on `/v1/messages` and its `count_tokens`: `thinking` disabled is not `thinking.budget_tokens`. */
export function messagesFieldNames(body: { thinking?: { type?: string } | null | undefined }): ClientFieldNames {
  return body.thinking?.type === 'disabled' ? MESSAGES_THINKING_DISABLED_FIELD_NAMES : MESSAGES_FIELD_NAMES;
}
