import type { Verbosity } from '../../spec/messages.js';
import { openAIModelFamilyId } from './openai-model-family.js';
import type { ResolvedEndpoint } from './resolve-endpoint.js';

/** gpt-5 and later: the models that take every verbosity, but for the exceptions below. */
const GPT5_FAMILY = /^gpt-(?:[5-9]|\d{2,})(?:[.-]|$)/;
/**
 * `medium` only: gpt-5-chat(-latest), gpt-5-codex, gpt-5.1-codex (-mini, -max) and gpt-5.2-codex. gpt-5.3-codex and
 * later Codex models take all three (theopenco/llmgateway#2989 probed the API).
 */
const MEDIUM_ONLY = /^gpt-5(?:-chat|(?:\.[12])?-codex)(?:-|$)/;

/**
 * Why (a clause, no final period) `verbosity` is not sent at this value to this endpoint and model, or undefined
 * when it is:
 * - an endpoint with `verbosity` off: every preset but `openai` (Azure OpenAI's GA API version 2024-10-21 refuses
 *   unknown fields: `options.verbosity` turns it on there; Groq, Mistral, DeepSeek and the local servers do not
 *   document it);
 * - on `openai` and `azure-openai`: `low` and `high` only to gpt-5 and later (gpt-5, -mini, -nano, -pro, gpt-5.1,
 *   gpt-5.1-chat-latest, gpt-5.2, gpt-5.3-codex...: OpenAI's GPT-5 guide; enricoros/big-AGI#947 and #930 list what
 *   the API takes; theopenco/llmgateway#2989 probed every GPT-5 model with all three), not to gpt-5-chat-latest nor
 *   the Codex models up to gpt-5.2-codex (gpt-5-codex, gpt-5.1-codex, -mini, -max, gpt-5.2-codex), nor to models
 *   before gpt-5: those answer 400 "Unsupported value: 'low' is not supported with the 'gpt-5.1-codex-max' model.
 *   Supported values are: 'medium'." (openai/codex#9035; gpt-5.2-codex: openai/codex#19188; gpt-5.1-codex and
 *   -mini, gpt-5-chat-latest: llmgateway#2989; gpt-5-codex: OpenAI's model page as BerriAI/litellm#16735 quotes it;
 *   gpt-4o: "'verbosity' does not support 'low' with this model", google-deepmind/concordia#164). `medium` (their
 *   default) goes to every model.
 * Another endpoint with `options.verbosity` on (a server that documents the field) is sent it as asked.
 */
export function openAIVerbosityRefusal(endpoint: ResolvedEndpoint, modelId: string, verbosity: Verbosity): string | undefined {
  const name = endpoint.providerName;
  if (!endpoint.verbosity) {
    return name === 'azure-openai'
      ? "Azure OpenAI's GA API version refuses unknown fields (set options.verbosity on the model with an API version that takes verbosity)"
      : `${endpoint.preset.label} is not known to take verbosity (set options.verbosity on the model to send it)`;
  }
  if ((name !== 'openai' && name !== 'azure-openai') || verbosity === 'medium') return undefined;
  const family = openAIModelFamilyId(modelId);
  if (GPT5_FAMILY.test(family) && !MEDIUM_ONLY.test(family)) return undefined;
  return `${modelId} takes only verbosity medium`;
}
