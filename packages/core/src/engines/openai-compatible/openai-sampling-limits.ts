import { normalizeModelId } from '../../pricing/model-id.js';
import { openAIModelFamilyId } from './openai-model-family.js';
import { openAIReasoningEfforts } from './openai-reasoning-models.js';
import type { ResolvedEndpoint } from './resolve-endpoint.js';

/** Presets that serve OpenAI's own models, whose limits below are OpenAI's. */
function openAIHosted(endpoint: ResolvedEndpoint): boolean {
  return endpoint.providerName === 'openai' || endpoint.providerName === 'azure-openai';
}

/** The open-weight gpt-oss models: not OpenAI-hosted, whatever the preset (Groq, vLLM and Ollama serve them). */
function openWeight(modelId: string): boolean {
  return openAIModelFamilyId(modelId).startsWith('gpt-oss');
}

/**
 * The models that refuse the penalties, by family id (`openAIModelFamilyId`): the whole o-series (`o1-mini` and
 * `o1-preview` included, which `isOpenAIReasoningModel` leaves out for `reasoning_effort` only), gpt-5 and later but
 * the `-chat` models, and the search models (`gpt-4o-search-preview`, `gpt-4o-mini-search-preview`, `-search-api`).
 */
const PENALTIES_REFUSED = /^(?:o\d+(?:-|$)|gpt-(?:[5-9]|\d{2,})(?!.*-chat(?:-|$))(?:[.-]|$))/;
const SEARCH_MODEL = /-search-(?:preview|api)(?:-|$)/;

/**
 * Why (a clause, no final period) this endpoint and model are not sent `frequency_penalty` / `presence_penalty`, or undefined when they are
 * (every other preset and model: OpenAI's chat models, Azure's GA API 2024-10-21, Groq, Mistral, DeepSeek's chat
 * model and Ollama list both fields in their API docs; for Together, OpenRouter, vLLM, LM Studio and llama.cpp
 * server we found nothing that says they refuse them):
 * - OpenAI's reasoning models on `openai` and `azure-openai` (the whole o-series, `o1-mini` and `o1-preview`
 *   included; gpt-5 and later but `-chat`): the API answers 400 "Unsupported parameter" (the limitations of OpenAI's
 *   reasoning guide, as the AI SDK cites them: it drops both for every OpenAI reasoning model, gpt-5.1 at reasoning
 *   effort `none` included, which takes temperature and top_p again but not the penalties; vercel/ai
 *   `openai-chat-language-model.ts`; o1-preview: "'frequency_penalty' is not supported with this model",
 *   lobehub/lobehub#5053);
 * - a deployment on those presets with the `reasoning` capability (`reasoning`), whatever its name: Azure
 *   deployment names are free (`my-reasoning-deployment`), so the capability says what runs behind it (gpt-oss
 *   excepted);
 * - OpenAI's search models on those presets (`gpt-4o-search-preview`, `gpt-4o-mini-search-preview`,
 *   `-search-api`): 400 "Model incompatible request arguments supplied: frequency_penalty, presence_penalty..."
 *   (vercel/ai#5647, lobehub/lobehub#7586);
 * - `deepseek-reasoner` on `deepseek`: DeepSeek's reasoning-model guide lists both under "Not Supported
 *   Parameters": accepted "to ensure compatibility", with no effect.
 */
export function openAIPenaltiesRefusal(endpoint: ResolvedEndpoint, modelId: string, reasoning: boolean): string | undefined {
  if (openAIHosted(endpoint) && !openWeight(modelId)) {
    const family = openAIModelFamilyId(modelId);
    if (SEARCH_MODEL.test(family) && !PENALTIES_REFUSED.test(family)) return `${endpoint.preset.label} search models (${modelId}) refuse sampling penalties`;
    const refused = reasoningModelRefusal(endpoint, family, modelId, reasoning, 'sampling penalties');
    if (refused !== undefined) return refused;
  }
  if (endpoint.providerName === 'deepseek' && normalizeModelId(modelId) === 'deepseek-reasoner') {
    return 'deepseek-reasoner ignores sampling penalties (DeepSeek lists them as not supported by its reasoning model)';
  }
  return undefined;
}

/**
 * Why (a clause, no final period) an OpenAI-hosted model (not gpt-oss; `family`: its `openAIModelFamilyId`) is
 * not sent `what` because it is one of OpenAI's reasoning models (`PENALTIES_REFUSED`, or a deployment with the
 * `reasoning` capability, whatever its name), or undefined: the one rule of the penalties and `logit_bias`.
 */
function reasoningModelRefusal(endpoint: ResolvedEndpoint, family: string, modelId: string, reasoning: boolean, what: string): string | undefined {
  if (PENALTIES_REFUSED.test(family)) return `${endpoint.preset.label} reasoning models (${modelId}) refuse ${what}`;
  if (reasoning) return `${endpoint.preset.label} reasoning models (${modelId}, a deployment with the reasoning capability) refuse ${what}`;
  return undefined;
}

/**
 * Why (a clause, no final period) this endpoint and model are not sent `logit_bias`, or undefined when they are: a
 * provider that refuses the field (`endpoint.logitBias` false: Groq's OpenAI compatibility page lists it among the
 * fields answered with a 400), and OpenAI's reasoning models on `openai` and `azure-openai`, as for the penalties (`openAIPenaltiesRefusal`): 400 "Unsupported
 * parameter: 'logit_bias'" (OpenAI's reasoning guide limitations; the AI SDK drops it for every OpenAI reasoning
 * model, "logitBias is not supported for reasoning models", vercel/ai `openai-chat-language-model.ts`).
 */
export function openAILogitBiasRefusal(endpoint: ResolvedEndpoint, modelId: string, reasoning: boolean): string | undefined {
  if (!endpoint.logitBias) return `${endpoint.preset.label} refuses logit_bias`;
  if (!openAIHosted(endpoint) || openWeight(modelId)) return undefined;
  return reasoningModelRefusal(endpoint, openAIModelFamilyId(modelId), modelId, reasoning, 'logit_bias');
}

/**
 * Why (a clause, no final period) this endpoint and model are not sent `parallel_tool_calls: false`, or undefined when they are (only ever
 * `false`, the value that changes something: `true` is every provider's default, the same as no field, and some
 * Azure OpenAI deployments and API versions older than 2024-10-21 (gpt-4o 2024-05-13, gpt-4 0613) answer 400
 * "Unrecognized request argument supplied: parallel_tool_calls" whatever its value, Azure/azure-sdk-for-net#45719;
 * and only with `tools`: OpenAI answers 400 "'parallel_tool_calls' is only allowed when 'tools' are specified",
 * openai/swarm#30). Azure's GA API 2024-10-21, Groq's and Mistral's API references list the field, and vLLM keeps
 * only the first call when it is false (`maybe_filter_parallel_tool_calls`); for Together, DeepSeek, OpenRouter,
 * Ollama, LM Studio and llama.cpp server we found no word either way, so they are sent it as OpenAI documents it.
 * - OpenAI's o-series on `openai` and `azure-openai`: 400 "Unsupported parameter: 'parallel_tool_calls' is not
 *   supported with this model." (o1, o3-mini, o3, o4-mini: run-llama/llama_index#20865, langchain-ai/langchain#29704,
 *   evalstate/fast-agent#279);
 * - `reasoning_effort: minimal` on the same presets (only the gpt-5 family takes it, so this holds for a freely
 *   named deployment too): "Parallel tool calls are not supported when reasoning_effort is set to minimal" (Azure
 *   OpenAI's reasoning-models guide; the same OpenAI models).
 * `effort`: the body's `reasoning_effort`.
 */
export function openAIParallelToolCallsRefusal(endpoint: ResolvedEndpoint, modelId: string, effort: unknown): string | undefined {
  if (!openAIHosted(endpoint) || openWeight(modelId)) return undefined;
  if (/^o\d+(?:-|$)/.test(openAIModelFamilyId(modelId))) return `${endpoint.preset.label} o-series models (${modelId}) refuse parallel_tool_calls`;
  if (effort === 'minimal') return `${endpoint.preset.label} refuses parallel_tool_calls at reasoning_effort minimal`;
  return undefined;
}

/** gpt-5.1 and later: reasoning models that take temperature and top_p again at reasoning effort `none`. */
const NONE_CAPABLE = /^gpt-(?:5\.\d+|[6-9]|\d{2,})(?:[.-]|$)/;

/** OpenAI's limit on `stop`: "Up to 4 sequences" (a 5th is a 400 `array_above_max_length`). */
export const OPENAI_MAX_STOP_SEQUENCES = 4;

/**
 * Why (a clause, no final period) this endpoint and model are not sent `field` (`temperature` other than 1, `top_p`
 * other than 1, `stop`), or undefined when they are:
 * - OpenAI's reasoning models on `openai` and `azure-openai` (the o-series, gpt-5 and later but `-chat`): 400
 *   "Unsupported value: 'temperature' does not support 0.5 with this model. Only the default (1) value is
 *   supported." (code unsupported_value; tmc/langchaingo#1355), the same for top_p, and "Unsupported parameter:
 *   'stop' is not supported with this model." (huggingface/smolagents#1671; LiteLLM drops it for GPT-5,
 *   BerriAI/litellm#15244). gpt-5.1 and later take temperature and top_p again at reasoning effort `none` (their
 *   default; OpenAI's GPT-5.1/5.2 guide lists them as supported only at `none`, as logprobs: `openAILogprobsRefusal`),
 *   for the models that take `none`; `stop` stays held back there (no source says they take it);
 * - a deployment with the `reasoning` capability on those presets (Azure deployment names are free), unless its
 *   `reasoning_effort` is `none` (`stop`: always); the open-weight gpt-oss models excepted (not OpenAI-hosted).
 * `effort`: the body's `reasoning_effort` (after `providerOptions` were merged: the one actually sent).
 */
export function openAIReasoningSamplingRefusal(
  endpoint: ResolvedEndpoint,
  modelId: string,
  reasoning: boolean,
  effort: unknown,
  field: 'temperature' | 'top_p' | 'stop',
): string | undefined {
  if (!openAIHosted(endpoint) || openWeight(modelId)) return undefined;
  const family = openAIModelFamilyId(modelId);
  const atNone = effort === undefined || effort === 'none';
  if (PENALTIES_REFUSED.test(family)) {
    if (field !== 'stop' && atNone && NONE_CAPABLE.test(family) && openAIReasoningEfforts(modelId)?.includes('none')) return undefined;
    return field === 'stop' ? `${endpoint.preset.label} reasoning models (${modelId}) refuse stop` : `${endpoint.preset.label} reasoning models (${modelId}) take only the default ${field} of 1${NONE_CAPABLE.test(family) ? ' (other values only at reasoning_effort none)' : ''}`;
  }
  if (reasoning && (field === 'stop' || effort !== 'none')) {
    return field === 'stop'
      ? `${endpoint.preset.label} reasoning models (${modelId}, a deployment with the reasoning capability) refuse stop`
      : `${endpoint.preset.label} reasoning models (${modelId}, a deployment with the reasoning capability) take only the default ${field} of 1`;
  }
  return undefined;
}
