import type { ClientFieldNames } from './client-field-names.js';

// How each route's client names the core fields its converter sets (see `ClientFieldNames`): only those a client
// field of the route produces; the others (`seed`, `temperature`, `stop` on the OpenAI routes...) keep core's name.

/** The client's names on `/v1/chat/completions` (openai/to-generate-request.ts), `maxTokens` as `max_completion_tokens`. */
const CHAT: ClientFieldNames = {
  fields: {
    maxTokens: 'max_completion_tokens',
    topP: 'top_p',
    frequencyPenalty: 'frequency_penalty',
    presencePenalty: 'presence_penalty',
    toolChoice: 'tool_choice',
    'toolChoice.name': 'tool_choice.function.name',
    parallelToolCalls: 'parallel_tool_calls',
    responseFormat: 'response_format',
    'responseFormat.name': 'response_format.json_schema.name',
    'responseFormat.schema': 'response_format.json_schema.schema',
    'responseFormat.strict': 'response_format.json_schema.strict',
    promptCacheKey: 'prompt_cache_key',
    reasoning: 'reasoning_effort',
    'reasoning.effort': 'reasoning_effort',
  },
  tool: { name: 'function.name', description: 'function.description', parameters: 'function.parameters' },
  mark: 'cache_control',
};

/** The same, for a body that set `max_tokens` (and no `max_completion_tokens`). */
const CHAT_MAX_TOKENS: ClientFieldNames = { ...CHAT, fields: { ...CHAT.fields, maxTokens: 'max_tokens' } };

/** The client's names on `/v1/chat/completions`: `maxTokens` is whichever of its two fields the body set. */
export function chatFieldNames(body: { max_completion_tokens?: number | null | undefined }): ClientFieldNames {
  return body.max_completion_tokens != null ? CHAT : CHAT_MAX_TOKENS;
}

/** The client's names on `/v1/completions` (`completionToGenerateRequest`). */
export const COMPLETION_FIELD_NAMES: ClientFieldNames = {
  fields: { maxTokens: 'max_tokens', topP: 'top_p', frequencyPenalty: 'frequency_penalty', presencePenalty: 'presence_penalty' },
};

/** The client's names on `/v1/responses` (responses/to-generate-request.ts); `reasoning` is the client's own. */
const RESPONSES: ClientFieldNames = {
  fields: {
    maxTokens: 'max_output_tokens',
    topP: 'top_p',
    toolChoice: 'tool_choice',
    parallelToolCalls: 'parallel_tool_calls',
    responseFormat: 'text.format',
    promptCacheKey: 'prompt_cache_key',
  },
};

/** The same, for a body whose end-user id came from `safety_identifier` (no `user`). */
const RESPONSES_SAFETY_ID: ClientFieldNames = { fields: { ...RESPONSES.fields, user: 'safety_identifier' } };

/** The client's names on `/v1/responses`: core's `user` is `user`, else `safety_identifier`. */
export function responsesFieldNames(body: { user?: string | null | undefined }): ClientFieldNames {
  return body.user ? RESPONSES : RESPONSES_SAFETY_ID;
}

/**
 * The client's names on `/v1/messages` and its `count_tokens` (anthropic/to-generate-request.ts): core's
 * `parallelToolCalls: false` is `tool_choice.disable_parallel_tool_use: true`, the thinking forms passed on under
 * `providerOptions.anthropic` are the client's `thinking`, `output_config` and `top_k`.
 */
export const MESSAGES_FIELD_NAMES: ClientFieldNames = {
  fields: {
    maxTokens: 'max_tokens',
    topP: 'top_p',
    stop: 'stop_sequences',
    toolChoice: 'tool_choice',
    parallelToolCalls: 'tool_choice.disable_parallel_tool_use',
    user: 'metadata.user_id',
    reasoning: 'thinking',
    'reasoning.budgetTokens': 'thinking.budget_tokens',
    'reasoning.effort': 'output_config.effort',
    'providerOptions.anthropic.thinking': 'thinking',
    'providerOptions.anthropic.output_config': 'output_config',
    'providerOptions.anthropic.top_k': 'top_k',
  },
  tool: { parameters: 'input_schema' },
  mark: 'cache_control',
  negated: ['parallelToolCalls'],
};
