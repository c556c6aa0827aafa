import { normalizeModelId } from '../../pricing/model-id.js';
import { openAIModelFamilyId } from './openai-model-family.js';
import { openAIReasoningEfforts } from './openai-reasoning-models.js';
import type { ResolvedEndpoint } from './resolve-endpoint.js';

/** OpenAI's reasoning families (the o-series, gpt-5 and later but the `-chat` models), by family id. */
const REASONING_FAMILY = /^(?:o\d+(?:-|$)|gpt-(?:[5-9]|\d{2,})(?!.*-chat(?:-|$))(?:[.-]|$))/;
/**
 * gpt-5-chat(-latest): not a reasoning model, but reported to refuse logprobs (deepeval marks it
 * supports_log_probs=False; CopilotKit#7191); not verified against the API. Held back: a warning costs less than a 400.
 */
const NO_LOGPROBS_CHAT = /^gpt-5-chat(?:-|$)/;
/** gpt-5.1 and later: reasoning models that return logprobs at reasoning effort `none`. */
const NONE_CAPABLE = /^gpt-(?:5\.\d+|[6-9]|\d{2,})(?:[.-]|$)/;

/** Why the presets that do not send logprobs do not (a clause). */
const PRESET_REASONS: Readonly<Record<string, string>> = {
  groq: 'Groq documents logprobs as unsupported (a 400)',
  mistral: 'Mistral takes no logprobs field and refuses unknown fields',
  together: 'Together AI takes logprobs as a count and answers them in its own shape, which this engine does not read',
  lmstudio: 'LM Studio does not list logprobs among its chat-completions fields',
};

/**
 * Why (a clause, no final period) this endpoint and model are not sent `logprobs` / `top_logprobs`, or undefined
 * when they are:
 * - an endpoint with `logprobs` off (the `groq`, `mistral`, `together` and `lmstudio` presets, or
 *   `options.logprobs: false`);
 * - OpenAI's reasoning models on `openai` and `azure-openai` (the o-series, gpt-5, -mini, -nano, -pro, the Codex
 *   models): "reasoning models do not return logprobs" (OpenAI's reasoning guide, its limitations; the API answers
 *   400 "Unsupported parameter: 'logprobs' is not supported with this model."). gpt-5.1 and later take them again at
 *   reasoning effort `none` (their default; OpenAI's GPT-5.1/5.2 guide lists logprobs, temperature and top_p as
 *   supported only at `none`; vercel/ai#10932): sent there when the body's `reasoning_effort` is `none` or absent,
 *   for the models that take `none` (not the Codex or -pro models);
 * - gpt-5-chat-latest on those presets: reported to refuse them (not verified; see `NO_LOGPROBS_CHAT`);
 * - a deployment with the `reasoning` capability on those presets (Azure deployment names are free), unless its
 *   `reasoning_effort` is `none`; the open-weight gpt-oss models excepted (not OpenAI-hosted);
 * - `deepseek-reasoner` on `deepseek`: DeepSeek's reasoning-model guide: "Setting logprobs, top_logprobs will
 *   trigger an error".
 * `effort`: the body's `reasoning_effort` (after `providerOptions` were merged: the one actually sent).
 */
export function openAILogprobsRefusal(endpoint: ResolvedEndpoint, modelId: string, reasoning: boolean, effort: unknown): string | undefined {
  const name = endpoint.providerName;
  if (!endpoint.logprobs) {
    return PRESET_REASONS[name] ?? `${endpoint.preset.label} is not set to take logprobs (options.logprobs is false)`;
  }
  if (name === 'openai' || name === 'azure-openai') {
    const family = openAIModelFamilyId(modelId);
    if (family.startsWith('gpt-oss')) return undefined;
    if (NO_LOGPROBS_CHAT.test(family)) return `${modelId} is reported to refuse logprobs (not verified against the API)`;
    const atNone = effort === undefined || effort === 'none';
    if (REASONING_FAMILY.test(family)) {
      if (atNone && NONE_CAPABLE.test(family) && openAIReasoningEfforts(modelId)?.includes('none')) return undefined;
      return NONE_CAPABLE.test(family) && openAIReasoningEfforts(modelId)?.includes('none')
        ? `${endpoint.preset.label} reasoning models (${modelId}) return logprobs only at reasoning_effort none`
        : `${endpoint.preset.label} reasoning models (${modelId}) return no logprobs`;
    }
    if (reasoning && effort !== 'none') {
      return `${endpoint.preset.label} reasoning models (${modelId}, a deployment with the reasoning capability) return no logprobs`;
    }
  }
  if (name === 'deepseek' && normalizeModelId(modelId) === 'deepseek-reasoner') return 'deepseek-reasoner refuses logprobs (DeepSeek: they trigger an error)';
  return undefined;
}
