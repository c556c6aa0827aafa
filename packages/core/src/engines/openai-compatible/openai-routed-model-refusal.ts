import { anthropicModelRefusesPrefill } from '../anthropic/anthropic-prefill-models.js';
import { geminiRefusesModelTurn } from '../gemini/gemini-model-turn-prefill.js';

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
 * asked of the id's last path segment (Claude's after `normalizeModelId`).
 *
 * Only an id with a provider prefix is matched: a bare `gemini-3.6-flash` or `claude-opus-4-6` may be a name a server
 * gives a model of its own (a LiteLLM `model_name`, a proxy that rewrites the conversation); the server's 400 then
 * teaches the engine (`openAILastRoleError`), and `options.refusesFinalAssistant: true` says so before the first call.
 */
export type RoutedRefusal = 'google' | 'anthropic';

/** Which provider's refusal a provider-prefixed `modelId` meets for a final assistant message, else undefined. */
export function routedModelRefusal(modelId: string): RoutedRefusal | undefined {
  const id = modelId.trim().toLowerCase();
  const slash = id.lastIndexOf('/');
  if (slash <= 0) return undefined;
  const last = id.slice(slash + 1);
  if (last.startsWith('gemini-')) return geminiRefusesModelTurn(last) ? 'google' : undefined;
  return anthropicModelRefusesPrefill(id) ? 'anthropic' : undefined;
}

/** The provider's words for the refusal (as the native engines quote them). */
export const ROUTED_REFUSAL_SAID: Readonly<Record<RoutedRefusal, string>> = {
  google: 'Google: "Prefilling model turns is no longer supported"',
  anthropic: 'Anthropic: "This model does not support assistant message prefill"',
};
