import { anthropicModelRefusesPrefill, trailingAssistantIndex } from '../anthropic/anthropic-prefill-models.js';
import { geminiRefusesModelTurn, trailingModelTurnIndex } from '../gemini/gemini-model-turn-prefill.js';
import type { ChatMessage } from '../../spec/messages.js';

/**
 * A Gemini or Claude model that refuses a conversation ending with an assistant message, reached through a server that
 * speaks OpenAI's wire format and routes by a provider-prefixed model id: OpenRouter, Vercel's AI Gateway and
 * Cloudflare's AI Gateway (`google/gemini-3.6-flash`, `anthropic/claude-opus-4.6`), LiteLLM (`gemini/...`,
 * `vertex_ai/...`, `bedrock/us.anthropic.claude-opus-4-6-v1:0`). Such a router passes a final assistant message on as
 * the provider's prefill and the provider refuses it (openclaw/openclaw#75395: `anthropic/claude-opus-4.6` through
 * OpenRouter, 400 "Provider returned error" wrapping Anthropic's "This model does not support assistant message
 * prefill"; anomalyco/models.dev#4922: `google/gemini-3.7-flash` through Cloudflare's OpenAI-compatible endpoint;
 * BerriAI/litellm#38652: `vertex_ai/gemini-3.7-flash` through LiteLLM, "Requests ending with a model turn are not
 * supported."). The tables are the native engines' own (`geminiRefusesModelTurn`, `anthropicModelRefusesPrefill`),
 * asked of the id's last path segment without an OpenRouter variant (`:nitro`, `:thinking`, `:floor`, `:exacto`).
 *
 * Only an id behind a known provider prefix (`PROVIDER_PREFIX`) is matched: a bare `gemini-3.6-flash` or
 * `claude-opus-4-6`, or one behind any other path (`someorg/claude-sonnet-4.6-distill-qwen3-8b`, a Hugging Face repo),
 * may be a model the server serves itself (a LiteLLM `model_name`, a fine-tune, a proxy that rewrites the
 * conversation); the server's 400 then teaches the engine (`openAILastRoleError`), and
 * `options.refusesFinalAssistant: true` says so before the first call. Never on a preset for a server that runs its own
 * models (`SERVES_ITS_OWN`). Whatever `options.prefill` says: the provider refuses the final turn however the router is
 * asked to send it (`options.refusesFinalAssistant: false` sends it).
 */
export type RoutedRefusal = 'google' | 'anthropic';

/**
 * The provider prefixes routers put before a Gemini or Claude model: OpenRouter and Vercel's AI Gateway (`google/`,
 * `anthropic/`); Cloudflare's AI Gateway `compat` endpoint (`google-ai-studio/`, `google-vertex-ai/`, `aws-bedrock/`,
 * `anthropic/`); LiteLLM (`gemini/`, `vertex_ai/`, `bedrock/`, `bedrock/converse/`, `bedrock/invoke/`, `anthropic/`,
 * `azure_ai/` for Claude in Azure AI Foundry), and any of these under LiteLLM's `openrouter/` or `vercel_ai_gateway/`
 * (`vercel_ai_gateway/anthropic/claude-opus-4.6`).
 */
const PROVIDER_PREFIX =
  /^(?:openrouter\/|vercel_ai_gateway\/)?(?:google|anthropic|gemini|vertex_ai|bedrock(?:\/(?:converse|invoke))?|azure_ai|google-ai-studio|google-vertex-ai|aws-bedrock)\/$/;

/** Presets for servers that run their own models (whatever they are named), whose ids are never read as a router's. */
const SERVES_ITS_OWN: ReadonlySet<string> = new Set(['vllm', 'ollama', 'llamacpp', 'lmstudio']);

/** OpenRouter's variant suffix (`:nitro`, `:thinking`, `:floor`, `:exacto`, `:free`), which names the same model. */
const VARIANT = /:[a-z]+$/;

/**
 * Which provider's refusal a provider-prefixed `modelId` meets for a final assistant message, else undefined; never for
 * a `preset` in `SERVES_ITS_OWN` (whose `prefill` way, the preset's or `options.prefill`, is the server's own).
 */
export function routedModelRefusal(modelId: string, preset?: string): RoutedRefusal | undefined {
  if (preset !== undefined && SERVES_ITS_OWN.has(preset)) return undefined;
  const id = modelId.trim().toLowerCase();
  const slash = id.lastIndexOf('/');
  if (slash <= 0 || !PROVIDER_PREFIX.test(id.slice(0, slash + 1))) return undefined;
  const last = id.slice(slash + 1).replace(VARIANT, '');
  if (last.startsWith('gemini-')) return geminiRefusesModelTurn(last) ? 'google' : undefined;
  return anthropicModelRefusesPrefill(last) ? 'anthropic' : undefined;
}

/**
 * The index of the message the provider receives as the conversation's last turn when it is the assistant's, as the
 * native engines read it (system messages after it do not count): `trailingModelTurnIndex` for Google,
 * `trailingAssistantIndex` for Anthropic; else undefined.
 */
export function routedRefusalIndex(messages: readonly ChatMessage[], provider: RoutedRefusal): number | undefined {
  return provider === 'google' ? trailingModelTurnIndex(messages) : trailingAssistantIndex(messages);
}

/** The provider's words for the refusal (as the native engines quote them). */
export const ROUTED_REFUSAL_SAID: Readonly<Record<RoutedRefusal, string>> = {
  google: 'Google: "Prefilling model turns is no longer supported"',
  anthropic: 'Anthropic: "This model does not support assistant message prefill"',
};
