import type { GenerateRequest } from '../../spec/messages.js';
import type { CallWarning } from '../../spec/warnings.js';
import type { ReasoningOptions } from '../../spec/reasoning.js';
import { reasoningEffort, wantsThinking } from '../shared/reasoning.js';
import { openAIReasoningEffort, openAIReasoningEfforts } from './openai-reasoning-models.js';
import type { ResolvedEndpoint } from './resolve-endpoint.js';

/**
 * What `buildOpenAIRequestBody` leaves out of a request it accepts, as `CallWarning`s (`setting_not_sent`), or
 * undefined when nothing (no allocation then: the engine's hot path):
 * - `promptCacheKey` (non-empty) where the endpoint does not send `prompt_cache_key` (every preset but `openai`,
 *   unless `options.promptCacheKey`): the caller set it for the provider's cache; the router still used it for
 *   prompt-cache affinity;
 * - `user` to a preset that takes no `user` field (Mistral);
 * - `reasoning` that asks for thinking (an effort other than `none`, a budget above 0) on a deployment without the
 *   `reasoning` capability (`reasoning_effort` would be a 400 there). Turning thinking off is no loss.
 * And `setting_changed` when `reasoning` went out as something else: `reasoning.effort` sent as the nearest effort
 * the model family takes (`openAIReasoningEffort`), `reasoning.budgetTokens` (without an effort) sent as the
 * effort of its budget (chat completions take no budget).
 * Cache marks (`cacheControl`) are no warning: OpenAI-compatible servers cache prompt prefixes on their own, and
 * a mark is a hint (see `CacheControl`). `providerOptions` of other providers are not this engine's.
 */
export function openAIRequestWarnings(request: GenerateRequest, endpoint: ResolvedEndpoint, reasoning: boolean, modelId: string): CallWarning[] | undefined {
  let warnings: CallWarning[] | undefined;
  if (typeof request.promptCacheKey === 'string' && request.promptCacheKey !== '' && !endpoint.promptCacheKey) {
    (warnings ??= []).push({
      code: 'setting_not_sent',
      field: 'promptCacheKey',
      message: `promptCacheKey was not sent: ${endpoint.preset.label} is not known to take prompt_cache_key (set options.promptCacheKey on the model to send it); the router still used it for prompt-cache affinity.`,
    });
  }
  if (request.user !== undefined && endpoint.preset.quirks?.userField === false) {
    (warnings ??= []).push({ code: 'setting_not_sent', field: 'user', message: `user was not sent: ${endpoint.preset.label} takes no user field.` });
  }
  if (request.reasoning !== undefined) {
    if (!reasoning) {
      if (wantsThinking(request.reasoning)) {
        (warnings ??= []).push({
          code: 'setting_not_sent',
          field: 'reasoning',
          message: 'reasoning was not sent: this deployment has no reasoning capability (add reasoning to its capabilities if the model takes reasoning_effort).',
        });
      }
    } else {
      const changed = effortChange(request.reasoning, modelId);
      if (changed) (warnings ??= []).push(changed);
    }
  }
  return warnings;
}

/** A `setting_changed` warning when the `reasoning_effort` sent is not what `reasoning` asked for, else undefined. */
function effortChange(asked: ReasoningOptions, modelId: string): CallWarning | undefined {
  const effort = reasoningEffort(asked);
  if (effort === undefined) return undefined;
  const sent = openAIReasoningEffort(modelId, effort);
  if (asked.effort === undefined) {
    return {
      code: 'setting_changed',
      field: 'reasoning.budgetTokens',
      message: `reasoning.budgetTokens ${asked.budgetTokens} was sent as reasoning_effort ${sent}: chat completions take an effort, not a token budget.`,
    };
  }
  if (sent === asked.effort) return undefined;
  return {
    code: 'setting_changed',
    field: 'reasoning.effort',
    message: `reasoning.effort ${asked.effort} was sent as ${sent}: ${modelId} takes ${(openAIReasoningEfforts(modelId) ?? []).join(', ')}.`,
  };
}
