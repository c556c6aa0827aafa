import { BASE_URL_USER_INFO, hasUserInfo, type ModelConfig } from '../../config/schema.js';
import { LLMError } from '../../errors/llm-error.js';
import type { EngineContext } from '../types.js';
import { parseOpenAICompatibleOptions } from './openai-compatible-options.js';
import type { OpenAIPrefillOption } from './openai-prefill.js';
import { routedModelRefusal, type RoutedRefusal } from './openai-routed-model-refusal.js';
import { AZURE_DEFAULT_API_VERSION, OPENAI_COMPATIBLE_PRESETS, findPreset, type OpenAICompatiblePreset } from './presets.js';

/** Used when a config gives a `baseURL` but no preset: any server speaking the OpenAI wire format, key optional. */
const GENERIC_PRESET: OpenAICompatiblePreset = { label: 'OpenAI-compatible server', auth: 'bearer', requiresApiKey: false };

/** Everything about where and how to call, fixed when the engine is created. */
export interface ResolvedEndpoint {
  /** Preset name, or `openai-compatible` without one; used as `provider` on errors. */
  readonly providerName: string;
  readonly preset: OpenAICompatiblePreset;
  /** Without trailing slash. */
  readonly baseURL: string;
  /** Azure only. */
  readonly azure?: { deployment: string; apiVersion: string };
  /** Send `stream_options.include_usage`. */
  readonly streamUsage: boolean;
  /** Body field for `maxTokens`: `options.maxTokensField`, else the preset's, else `max_tokens`. */
  readonly maxTokensField: string;
  /** Send `prompt_cache_key`: `options.promptCacheKey`, else the preset's, else false. */
  readonly promptCacheKey: boolean;
  /** Send `top_k`: `options.topK`, else the preset's, else false. */
  readonly topK: boolean;
  /** Send `verbosity` (where the model takes it): `options.verbosity`, else the preset's, else false. */
  readonly verbosity: boolean;
  /** Send `logprobs` (where the model takes it): `options.logprobs`, else the preset's, else true. */
  readonly logprobs: boolean;
  /** Send a tool's `strict` (where its schema fits OpenAI's strict rules): `options.strictTools`, else the preset's, else false. */
  readonly strictTools: boolean;
  /** Send a tool loop's assistant turns' reasoning as `reasoning_content`: `options.reasoningContent`, else the preset's, else false. */
  readonly reasoningContent: boolean;
  /** Send a budget of 0 as `reasoning_effort: "none"` to a model outside OpenAI's family table: `options.reasoningNone`, else the preset's, else false. */
  readonly reasoningNone: boolean;
  /** Send `logit_bias` (where the model takes it): `options.logitBias`, else the preset's, else true (false for Groq, which refuses it). */
  readonly logitBias: boolean;
  /** Send the messages' author `name`: `options.messageNames`, else the preset's, else true (false for Groq, which refuses it). */
  readonly messageNames: boolean;
  /** Refuse a message's author `name` outside OpenAI's characters before the call: the preset's `checkMessageNames` (OpenAI, Azure OpenAI). */
  readonly checkMessageNames: boolean;
  /**
   * How the server continues an asked prefill: `options.prefill`, else the preset's, else undefined (it does not);
   * `none` (the option's): the preset's way turned off, as undefined.
   */
  readonly prefill?: OpenAIPrefillOption;
  /**
   * The server's answer to a `prefix: true` message starts with that message's text (Mistral), which the engine takes
   * off: `options.prefillEcho`, else the preset's, else false (DeepSeek answers with the continuation alone).
   */
  readonly prefillEcho: boolean;
  /**
   * The server refuses a conversation ending with an assistant message not continued with `prefix: true`
   * (`finalAssistantRefusal`): `options.refusesFinalAssistant`, else the preset's, else true when the model id names,
   * behind a provider prefix, a Gemini or Claude model that refuses one (`routedRefusal`), else false.
   */
  readonly refusesFinalAssistant: boolean;
  /**
   * The model id names, behind a provider prefix, a Gemini or Claude model that refuses a conversation ending with an
   * assistant message (`routedModelRefusal`: `google/gemini-3.6-flash`, `anthropic/claude-opus-4.6`), whose refusal
   * `finalAssistantRefusal` then quotes (not on the `vllm`, `ollama`, `llamacpp` and `lmstudio` presets; whatever
   * `prefill` says). Set whatever `options.refusesFinalAssistant` says (which alone decides).
   */
  readonly routedRefusal?: { readonly provider: RoutedRefusal; readonly modelId: string };
  /**
   * The server refuses a conversation ending with an assistant message that carries tool calls (`finalAssistantRefusal`):
   * `options.refusesFinalToolCalls`, else the preset's unless `prefill` is `continue_final_message`, else false.
   */
  readonly refusesFinalToolCalls: boolean;
  /** True when `strictTools` came from `options.strictTools` (for the warning's wording). */
  readonly strictToolsByOption: boolean;
  /** `options.embedDimensions` when set (else the engine decides by the model id). */
  readonly embedDimensions?: boolean;
}

function configError(model: ModelConfig, field: string, message: string): LLMError {
  return new LLMError({
    code: 'config_invalid',
    message: `model "${model.name}": ${message}`,
    param: `models.${model.name}.${field}`,
    provider: 'openai-compatible',
    deployment: model.name,
  });
}

/** The settings `resolveEndpoint` reads from the config alone (options, preset), without the environment. */
export function checkOpenAICompatibleConfig(model: ModelConfig): void {
  parseOpenAICompatibleOptions(model);
  if (model.preset !== undefined && !findPreset(model.preset)) throw unknownPreset(model);
}

function unknownPreset(model: ModelConfig): LLMError {
  const known = Object.keys(OPENAI_COMPATIBLE_PRESETS).join(', ');
  return configError(model, 'preset', `unknown preset "${model.preset}" (known: ${known})`);
}

/**
 * Resolves preset, base URL and Azure details. Throws `config_invalid` for an unknown preset or a missing
 * base URL. Without `preset` and without `baseURL`, the `openai` preset is used.
 */
export function resolveEndpoint(model: ModelConfig, ctx: EngineContext): ResolvedEndpoint {
  const options = parseOpenAICompatibleOptions(model);
  const { preset, providerName } = modelPreset(model);
  // The preset's address variable (AZURE_OPENAI_ENDPOINT) is not read where only `apiKeyEnv`'s is.
  const baseURLEnv = ctx.namedEnvOnly ? undefined : preset.baseURLEnv;
  const rawBase = model.baseURL ?? preset.baseURL ?? (baseURLEnv ? ctx.env[baseURLEnv] : undefined);
  if (!rawBase) {
    const hint = baseURLEnv ? ` or set the environment variable ${baseURLEnv}` : '';
    throw configError(model, 'baseURL', `${preset.label} needs a baseURL (e.g. https://<resource>.openai.azure.com)${hint}`);
  }
  // (From the config the schema refuses it; from the preset's environment variable, here.)
  if (hasUserInfo(rawBase)) throw configError(model, 'baseURL', `the base URL ${BASE_URL_USER_INFO}`);
  const baseURL = rawBase.replace(/\/+$/, '');
  const prefill = options.prefill ?? preset.quirks?.prefill;
  const modelId = model.model ?? model.name;
  const routedProvider = routedModelRefusal(modelId, model.preset);
  const routedRefusal = routedProvider !== undefined ? { provider: routedProvider, modelId } : undefined;
  const azure = preset.quirks?.azureDeployments
    ? { deployment: options.deployment ?? model.model ?? model.name, apiVersion: options.apiVersion ?? AZURE_DEFAULT_API_VERSION }
    : undefined;
  return {
    providerName,
    preset,
    baseURL,
    ...(azure ? { azure } : {}),
    streamUsage: options.streamUsage ?? preset.quirks?.streamOptions ?? true,
    maxTokensField: options.maxTokensField ?? preset.quirks?.maxTokensField ?? 'max_tokens',
    promptCacheKey: options.promptCacheKey ?? preset.quirks?.promptCacheKey ?? false,
    topK: options.topK ?? preset.quirks?.topK ?? false,
    verbosity: options.verbosity ?? preset.quirks?.verbosity ?? false,
    logprobs: options.logprobs ?? preset.quirks?.logprobs ?? true,
    strictTools: options.strictTools ?? preset.quirks?.strictTools ?? false,
    strictToolsByOption: options.strictTools !== undefined,
    reasoningContent: options.reasoningContent ?? preset.quirks?.reasoningContent ?? false,
    reasoningNone: options.reasoningNone ?? preset.quirks?.reasoningNone ?? false,
    logitBias: options.logitBias ?? preset.quirks?.logitBias ?? true,
    messageNames: options.messageNames ?? preset.quirks?.messageNames ?? true,
    checkMessageNames: preset.quirks?.checkMessageNames ?? false,
    ...(prefill !== undefined ? { prefill } : {}),
    prefillEcho: options.prefillEcho ?? preset.quirks?.prefillEcho ?? false,
    refusesFinalAssistant: options.refusesFinalAssistant ?? preset.quirks?.refusesFinalAssistant ?? routedRefusal !== undefined,
    ...(routedRefusal !== undefined ? { routedRefusal } : {}),
    refusesFinalToolCalls: options.refusesFinalToolCalls ?? ((preset.quirks?.refusesFinalToolCalls ?? false) && prefill !== 'continue_final_message'),
    ...(options.embedDimensions !== undefined ? { embedDimensions: options.embedDimensions } : {}),
  };
}

/** The model's preset (the generic one for a `baseURL` without a preset, else `openai`); throws for an unknown one. */
function modelPreset(model: ModelConfig): { preset: OpenAICompatiblePreset; providerName: string } {
  const providerName = openAICompatibleProviderName(model);
  if (model.preset !== undefined) {
    const found = findPreset(model.preset);
    if (!found) throw unknownPreset(model);
    return { preset: found, providerName };
  }
  if (model.baseURL === undefined) return { preset: OPENAI_COMPATIBLE_PRESETS.openai, providerName };
  return { preset: isGroqHost(model.baseURL) ? GROQ_BY_HOST : GENERIC_PRESET, providerName };
}

/**
 * A `baseURL` without a preset on Groq's host (`api.groq.com`): the generic preset (its key optional, read from
 * `apiKey` or `apiKeyEnv` only) with Groq's label and its wire quirks (no `logprobs`, `logit_bias` nor
 * `messages[].name`, which Groq answers with a 400; `reasoning_effort: "none"`), as the Anthropic engine knows
 * Microsoft Foundry by its host. `options` override each as on the preset.
 */
const GROQ_BY_HOST: OpenAICompatiblePreset = { ...GENERIC_PRESET, label: OPENAI_COMPATIBLE_PRESETS.groq.label, quirks: OPENAI_COMPATIBLE_PRESETS.groq.quirks };

function isGroqHost(baseURL: string): boolean {
  try {
    return new URL(baseURL).hostname.toLowerCase() === 'api.groq.com';
  } catch {
    return false;
  }
}

/**
 * The provider the engine for `model` reports (`ResolvedEndpoint.providerName`), from the config alone: its preset's
 * name, `openai-compatible` for a `baseURL` without one, else `openai`. An unknown preset is named as given (the engine
 * refuses it).
 */
export function openAICompatibleProviderName(model: ModelConfig): string {
  return model.preset ?? (model.baseURL !== undefined ? 'openai-compatible' : 'openai');
}

/** Whether the model's provider takes no call without a key (its preset's `requiresApiKey`; false for an unknown preset). */
export function openAICompatibleNeedsApiKey(model: ModelConfig): boolean {
  if (model.preset !== undefined && !findPreset(model.preset)) return false;
  return modelPreset(model).preset.requiresApiKey;
}

/** Full URL of an API path (`chat/completions`, `embeddings`) for this endpoint. */
export function endpointURL(endpoint: ResolvedEndpoint, path: 'chat/completions' | 'embeddings'): string {
  if (endpoint.azure) {
    const { deployment, apiVersion } = endpoint.azure;
    return `${endpoint.baseURL}/openai/deployments/${encodeURIComponent(deployment)}/${path}?api-version=${encodeURIComponent(apiVersion)}`;
  }
  return `${endpoint.baseURL}/${path}`;
}

/**
 * Auth headers for a call. Resolved per call (keys can be rotated in the environment).
 * Throws `authentication` naming the environment variable when a required key is missing.
 */
export function authHeaders(endpoint: ResolvedEndpoint, model: ModelConfig, ctx: EngineContext): Record<string, string> {
  const { preset } = endpoint;
  // The preset's key variable (OPENAI_API_KEY...) is not read where only `apiKeyEnv`'s is.
  const envName = model.apiKeyEnv ?? (ctx.namedEnvOnly ? undefined : preset.apiKeyEnv);
  const key = model.apiKey || (envName ? ctx.env[envName] : undefined) || undefined;
  if (!key) {
    const explicit = model.apiKeyEnv !== undefined;
    if (preset.requiresApiKey || explicit) {
      const where = envName
        ? `set the environment variable ${envName}${explicit ? ` (named by apiKeyEnv of model "${model.name}")` : ''}`
        : `set apiKey or apiKeyEnv on model "${model.name}"${ctx.namedEnvOnly && preset.apiKeyEnv ? ` (${preset.apiKeyEnv} is not read for it)` : ''}`;
      throw new LLMError({
        code: 'authentication',
        message: `${preset.label} needs an API key for model "${model.name}": ${where}`,
        param: `models.${model.name}.apiKey`,
        provider: endpoint.providerName,
        deployment: model.name,
      });
    }
    return {};
  }
  if (preset.auth === 'api-key') return { 'api-key': key };
  return { authorization: `Bearer ${key}` };
}
