import { LLMError } from '../../errors/llm-error.js';
import type { LogprobsOptions } from '../../spec/logprobs.js';
import type { GenerateRequest, ResponseFormat, ToolChoice, ToolDefinition } from '../../spec/messages.js';
import { asksLogitBias } from '../shared/logit-bias.js';
import { mergeProviderOptions } from '../shared/merge-provider-options.js';
import { checkReasoning, reasoningEffort } from '../shared/reasoning.js';
import { openAILogprobsRefusal } from './openai-logprobs-limits.js';
import { openAIOptionPath } from './openai-option-path.js';
import { checkOpenAIMessageNames } from './openai-message-names.js';
import { addPrefill, checkFinalAssistant } from './openai-prefill.js';
import { openAIReasoningEffort } from './openai-reasoning-models.js';
import { openAIVerbosityRefusal } from './openai-verbosity-limits.js';
import { convertToOpenAIMessages } from './convert-to-openai-messages.js';
import { OPENAI_MAX_STOP_SEQUENCES, openAILogitBiasRefusal, openAIParallelToolCallsRefusal, openAIPenaltiesRefusal, openAIReasoningSamplingRefusal } from './openai-sampling-limits.js';
import { EMPTY_PARAMETERS, openAIStrictSchemaProblem } from './openai-strict-schema.js';
import { openAIPromptCacheKey } from './prompt-cache-key.js';
import type { ResolvedEndpoint } from './resolve-endpoint.js';

/** Body fields `providerOptions` never set: the deployment's model (`stream` is set after the merge). */
const KEPT_FIELDS: readonly string[] = ['model'];

function invalid(message: string, param: string): LLMError {
  return new LLMError({ code: 'invalid_request', message, param, provider: 'openai-compatible' });
}

function convertToolChoice(choice: ToolChoice, request: GenerateRequest): unknown {
  if (typeof choice === 'string') return choice;
  if (!request.tools?.some((t) => t.name === choice.name)) {
    throw invalid(`toolChoice.name: no tool named "${choice.name}" in tools`, 'toolChoice.name');
  }
  return { type: 'function', function: { name: choice.name } };
}

/** Whether a tool's `strict` goes out: set, the endpoint takes it, and for `true` the schema fits strict mode. */
function sendsStrict(tool: ToolDefinition, endpoint: ResolvedEndpoint): boolean {
  if (tool.strict === undefined || !endpoint.strictTools) return false;
  return tool.strict === false || openAIStrictSchemaProblem(tool.parameters ?? EMPTY_PARAMETERS) === undefined;
}

function convertResponseFormat(format: ResponseFormat): unknown {
  switch (format.type) {
    case 'text':
      return undefined;
    case 'json_object':
      return { type: 'json_object' };
    case 'json_schema':
      return {
        type: 'json_schema',
        json_schema: {
          name: format.name ?? 'response',
          ...(format.description !== undefined ? { description: format.description } : {}),
          schema: format.schema,
          // `strict: true` only for a schema strict mode takes (`openAIStrictSchemaProblem`); else warned.
          ...(format.strict === false || (format.strict === true && openAIStrictSchemaProblem(format.schema) === undefined) ? { strict: format.strict } : {}),
        },
      };
  }
}

/**
 * `logprobs` onto the body after `providerOptions` were merged: whether the model returns them depends on the
 * `reasoning_effort` actually sent (gpt-5.1 and later only at `none`, `openAILogprobsRefusal`), which the caller's
 * options may set. A `logprobs` or `top_logprobs` the caller's options set is theirs, never replaced. `logprobs:
 * true` unless the options set `logprobs` or the model refuses it; `top_logprobs` only with a count above 0 (0 is
 * OpenAI's default) and only beside a `logprobs: true`, whoever set it: OpenAI refuses it otherwise.
 */
function addLogprobs(body: Record<string, unknown>, asked: LogprobsOptions, endpoint: ResolvedEndpoint, modelId: string, reasoning: boolean): void {
  if (!Object.hasOwn(body, 'logprobs')) {
    if (openAILogprobsRefusal(endpoint, modelId, reasoning, body.reasoning_effort) !== undefined) return;
    body.logprobs = true;
  }
  const top = asked.topLogprobs;
  if (body.logprobs === true && top !== undefined && top > 0 && !Object.hasOwn(body, 'top_logprobs')) body.top_logprobs = top;
}

/** The request's sampling fields and their wire names, as `holdBackSampling` checks them. */
const SAMPLING = [
  ['temperature', 'temperature'],
  ['topP', 'top_p'],
  ['stop', 'stop'],
] as const;

/**
 * After `providerOptions` were merged (the `reasoning_effort` sent decides, `openAIReasoningSamplingRefusal`): the
 * request's `temperature` and `top_p` other than 1, and its `stop`, taken off the body of a model that refuses them
 * (OpenAI's reasoning models); a value the caller's options set is theirs, never removed. `openAISamplingWarnings`
 * says what was not sent.
 */
function holdBackSampling(body: Record<string, unknown>, request: GenerateRequest, endpoint: ResolvedEndpoint, modelId: string, reasoning: boolean): void {
  for (const [field, wire] of SAMPLING) {
    const value = body[wire];
    if (value === undefined || (wire !== 'stop' && value === 1) || openAIOptionPath(request, endpoint, wire) !== undefined || request[field] === undefined) continue;
    if (openAIReasoningSamplingRefusal(endpoint, modelId, reasoning, body.reasoning_effort, wire) !== undefined) delete body[wire];
  }
}

/**
 * Our GenerateRequest -> the chat-completions body. `providerOptions.openai` (and `providerOptions[<preset>]`)
 * are merged over it last (own fields, `mergeProviderOptions`), except `model` and `stream`, which the engine
 * controls. `reasoning`: whether the deployment
 * takes `reasoning_effort` (its `reasoning` capability); when false a valid `request.reasoning` is dropped; on
 * `openai` and `azure-openai` it also holds the penalties back (a reasoning model, whatever the deployment's name).
 * `promptCacheKey` goes out as `prompt_cache_key` only where `endpoint.promptCacheKey` (the `openai` preset,
 * or `options.promptCacheKey`); elsewhere it is dropped (a non-string is still refused). `frequencyPenalty` and
 * `presencePenalty` go out as `frequency_penalty` / `presence_penalty`, and `parallelToolCalls: false` as
 * `parallel_tool_calls: false` with the tools sent (`true` is the default: not sent), except where
 * `openAIPenaltiesRefusal` / `openAIParallelToolCallsRefusal` say the model refuses them (`logitBias` as `logit_bias`
 * unless `openAILogitBiasRefusal`). `topK` goes out as `top_k`
 * where `endpoint.topK`; `verbosity` as `verbosity` unless `openAIVerbosityRefusal`; `logprobs` as `logprobs: true`
 * (and `top_logprobs: N` for N > 0) unless `openAILogprobsRefusal`, decided after the merge (see `addLogprobs`);
 * `temperature` / `top_p` other than 1 and `stop` likewise unless `openAIReasoningSamplingRefusal` (`holdBackSampling`),
 * and `stop` cut to OpenAI's 4 on `openai` / `azure-openai`. A request without them gets the same body as before.
 */
export function buildOpenAIRequestBody(
  request: GenerateRequest,
  modelId: string,
  endpoint: ResolvedEndpoint,
  stream: boolean,
  reasoning: boolean,
): Record<string, unknown> {
  if (!Array.isArray(request.messages) || request.messages.length === 0) {
    throw invalid('messages: at least one message is required', 'messages');
  }
  // OpenAI and Azure OpenAI refuse an author name outside their characters: said before the call, naming the message.
  if (endpoint.checkMessageNames && endpoint.messageNames) checkOpenAIMessageNames(request.messages, endpoint.preset.label);
  // Mistral refuses a conversation ending with an assistant message not sent as a prefix: said before the call too.
  checkFinalAssistant(request, endpoint);
  const quirks = endpoint.preset.quirks ?? {};
  const body: Record<string, unknown> = {};
  if (!endpoint.azure) body.model = modelId;
  body.messages = convertToOpenAIMessages(request.messages, endpoint.reasoningContent, endpoint.messageNames);
  // A prefill the request asks to be continued (`continueFinalMessage`), continued where the server is known to
  // (`options.prefill` or the preset's), else warned (`prefillWarning`).
  addPrefill(body, request, endpoint);
  if (request.maxTokens !== undefined) body[endpoint.maxTokensField] = request.maxTokens;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.stop !== undefined && request.stop.length > 0) {
    // OpenAI takes at most 4 (a 5th is a 400): the first 4 go, `openAISamplingWarnings` says so.
    body.stop = endpoint.providerName === 'openai' || endpoint.providerName === 'azure-openai' ? request.stop.slice(0, OPENAI_MAX_STOP_SEQUENCES) : request.stop;
  }
  if (request.seed !== undefined) body[quirks.seedField ?? 'seed'] = request.seed;
  if (request.frequencyPenalty !== undefined || request.presencePenalty !== undefined) {
    // Not to a model documented to refuse (or ignore) them: `openAIRequestWarnings` says so.
    if (openAIPenaltiesRefusal(endpoint, modelId, reasoning) === undefined) {
      if (request.frequencyPenalty !== undefined) body.frequency_penalty = request.frequencyPenalty;
      if (request.presencePenalty !== undefined) body.presence_penalty = request.presencePenalty;
    }
  }
  // `top_k` only where the endpoint takes it (`endpoint.topK`); `verbosity` where the model takes it (see
  // `openAIVerbosityRefusal`). Elsewhere `openAIRequestWarnings` says they were not sent.
  if (request.topK !== undefined && endpoint.topK) body.top_k = request.topK;
  // Not to a provider (Groq) or model (OpenAI's reasoning models, as the penalties) that refuses it: `openAIRequestWarnings` says so.
  if (request.logitBias !== undefined && asksLogitBias(request.logitBias) && openAILogitBiasRefusal(endpoint, modelId, reasoning) === undefined) body.logit_bias = request.logitBias;
  if (request.verbosity !== undefined && openAIVerbosityRefusal(endpoint, modelId, request.verbosity) === undefined) body.verbosity = request.verbosity;
  if (request.user !== undefined && quirks.userField !== false) body.user = request.user;
  const cacheKey = openAIPromptCacheKey(request.promptCacheKey, endpoint.promptCacheKey);
  if (cacheKey !== undefined) body.prompt_cache_key = cacheKey;
  if (request.tools !== undefined && request.tools.length > 0) {
    body.tools = request.tools.map((t) => ({
      type: 'function',
      // `strict` where the endpoint takes it (`endpoint.strictTools`: OpenAI, Azure OpenAI, Mistral), `true` only for a
      // schema OpenAI's strict mode takes; else `openAIRequestWarnings` says it was not sent.
      function: { name: t.name, ...(t.description !== undefined ? { description: t.description } : {}), parameters: t.parameters, ...(sendsStrict(t, endpoint) ? { strict: t.strict } : {}) },
    }));
  }
  if (request.toolChoice !== undefined) body.tool_choice = convertToolChoice(request.toolChoice, request);
  if (request.responseFormat !== undefined) {
    const format = convertResponseFormat(request.responseFormat);
    if (format !== undefined) body.response_format = format;
  }
  // `reasoning_effort` (chat completions; openai 6.49 ChatCompletionCreateParams.reasoning_effort: none, minimal,
  // low, medium, high, xhigh, max). A budget-only request sends the effort of its budget (see `reasoningEffort`).
  // Only to a deployment with the `reasoning` capability: gpt-4o and most open models answer 400 to the field
  // ("Unsupported parameter: 'reasoning_effort'"), so elsewhere it is dropped (still checked).
  const asked = checkReasoning(request.reasoning, 'openai-compatible');
  // An effort the model's family does not take goes as the nearest one it does (`openAIReasoningEffort`); a budget
  // of 0 to a model outside the family table goes as `none` where the endpoint takes it (`endpoint.reasoningNone`),
  // else as nothing (`openAIRequestWarnings` says so).
  const effort = reasoning && asked ? reasoningEffort(asked) : undefined;
  if (effort !== undefined) {
    const sent = openAIReasoningEffort(modelId, effort, asked!.effort === undefined && !endpoint.reasoningNone);
    if (sent !== undefined) body.reasoning_effort = sent;
  }
  // Own fields only (a `__proto__` field is sent as one), never `model`: the deployment's, which the router
  // prices, limits and checks (`openAIRequestWarnings` says it was not sent).
  mergeProviderOptions(body, request.providerOptions?.openai, KEPT_FIELDS);
  if (endpoint.providerName !== 'openai') mergeProviderOptions(body, request.providerOptions?.[endpoint.providerName], KEPT_FIELDS);
  if (request.logprobs !== undefined) addLogprobs(body, request.logprobs, endpoint, modelId, reasoning);
  if (request.temperature !== undefined || request.topP !== undefined || body.stop !== undefined) holdBackSampling(body, request, endpoint, modelId, reasoning);
  // After the merge (the caller's options still win): only `false` (`true` is the default, the same as no field,
  // which older Azure deployments refuse whatever its value), only with the tools actually sent, and not where the
  // model refuses the field (which may depend on the reasoning_effort sent).
  if (request.parallelToolCalls === false && Array.isArray(body.tools) && body.tools.length > 0 && !Object.hasOwn(body, 'parallel_tool_calls')) {
    if (openAIParallelToolCallsRefusal(endpoint, modelId, body.reasoning_effort) === undefined) body.parallel_tool_calls = false;
  }
  if (stream) {
    body.stream = true;
    if (endpoint.streamUsage) body.stream_options = { ...(body.stream_options as object | undefined), include_usage: true };
  } else {
    delete body.stream;
    delete body.stream_options;
  }
  return body;
}
