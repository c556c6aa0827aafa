import { normalizeModelId } from '../../pricing/model-id.js';
import { isOpenAIReasoningModel } from './openai-reasoning-models.js';
import type { ResolvedEndpoint } from './resolve-endpoint.js';

/** Presets that serve OpenAI's own models, whose limits below are OpenAI's. */
function openAIHosted(endpoint: ResolvedEndpoint): boolean {
  return endpoint.providerName === 'openai' || endpoint.providerName === 'azure-openai';
}

/** OpenAI's hosted reasoning models (o-series, gpt-5 and later but the `-chat` models); not the open-weight gpt-oss. */
function hostedReasoningModel(endpoint: ResolvedEndpoint, modelId: string): boolean {
  return openAIHosted(endpoint) && isOpenAIReasoningModel(modelId) && !normalizeModelId(modelId).startsWith('gpt-oss');
}

/**
 * Why (a clause, no final period) this endpoint and model are not sent `frequency_penalty` / `presence_penalty`, or undefined when they are
 * (every other preset and model: OpenAI's chat models, Azure's GA API 2024-10-21, Groq, Mistral, DeepSeek's chat
 * model and Ollama list both fields in their API docs; for Together, OpenRouter, vLLM, LM Studio and llama.cpp
 * server we found nothing that says they refuse them):
 * - OpenAI's reasoning models on `openai` and `azure-openai` (o-series, gpt-5 and later but `-chat`): the API
 *   answers 400 "Unsupported parameter" (the limitations of OpenAI's reasoning guide, as the AI SDK cites them: it
 *   drops both for every OpenAI reasoning model, gpt-5.1 at reasoning effort `none` included, which takes
 *   temperature and top_p again but not the penalties; vercel/ai `openai-chat-language-model.ts`);
 * - `deepseek-reasoner` on `deepseek`: DeepSeek's reasoning-model guide lists both under "Not Supported
 *   Parameters": accepted "to ensure compatibility", with no effect.
 */
export function openAIPenaltiesRefusal(endpoint: ResolvedEndpoint, modelId: string): string | undefined {
  if (hostedReasoningModel(endpoint, modelId)) return `${endpoint.preset.label} reasoning models (${modelId}) refuse sampling penalties`;
  if (endpoint.providerName === 'deepseek' && normalizeModelId(modelId) === 'deepseek-reasoner') {
    return 'deepseek-reasoner ignores sampling penalties (DeepSeek lists them as not supported by its reasoning model)';
  }
  return undefined;
}

/**
 * Why (a clause, no final period) this endpoint and model are not sent `parallel_tool_calls`, or undefined when they are (only ever with
 * `tools`: OpenAI answers 400 "'parallel_tool_calls' is only allowed when 'tools' are specified", openai/swarm#30).
 * Azure's GA API 2024-10-21, Groq's and Mistral's API references list the field, and vLLM keeps only the first
 * call when it is false (`maybe_filter_parallel_tool_calls`); for Together, DeepSeek, OpenRouter, Ollama, LM Studio
 * and llama.cpp server we found no word either way, so they are sent it as OpenAI documents it.
 * - OpenAI's o-series on `openai` and `azure-openai`: 400 "Unsupported parameter: 'parallel_tool_calls' is not
 *   supported with this model." (o1, o3-mini, o3, o4-mini: run-llama/llama_index#20865, langchain-ai/langchain#29704,
 *   evalstate/fast-agent#279);
 * - the gpt-5 family at `reasoning_effort: minimal` on the same presets: "Parallel tool calls are not supported
 *   when reasoning_effort is set to minimal" (Azure OpenAI's reasoning-models guide; the same OpenAI models).
 * `effort`: the body's `reasoning_effort`.
 */
export function openAIParallelToolCallsRefusal(endpoint: ResolvedEndpoint, modelId: string, effort: unknown): string | undefined {
  if (!hostedReasoningModel(endpoint, modelId)) return undefined;
  if (/^o\d+(?:-|$)/.test(normalizeModelId(modelId))) return `${endpoint.preset.label} o-series models (${modelId}) refuse parallel_tool_calls`;
  if (effort === 'minimal') return `${endpoint.preset.label} refuses parallel_tool_calls at reasoning_effort minimal`;
  return undefined;
}
