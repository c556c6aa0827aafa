import type { GenerateRequest } from '../../spec/messages.js';
import type { CallWarning } from '../../spec/warnings.js';
import type { ReasoningOptions } from '../../spec/reasoning.js';
import { reasoningBudget, wantsThinking } from '../shared/reasoning.js';
import { geminiThinkingBudget, geminiThinkingLevel, geminiThinkingRange } from './gemini-thinking-models.js';

/**
 * What `convertToGeminiRequest` changes or leaves out of a request it accepts, as `CallWarning`s, or undefined
 * when nothing:
 * - `system_message_hoisted` (`messages.N`): a non-empty system message after the first user, assistant or tool
 *   message; Gemini takes system text only as the top-level `systemInstruction`, where it is joined;
 * - `setting_not_sent` `messages.N.name`: a user message's `name` (Gemini contents have no author name);
 * - `setting_not_sent` `user`, `promptCacheKey`: Gemini has no end-user id and no cache key (it caches prompt
 *   prefixes implicitly); the router still used the key for prompt-cache affinity;
 * - `setting_not_sent` `reasoning`: thinking asked for (an effort other than `none`, a budget above 0) on a
 *   deployment without the `reasoning` capability;
 * - `setting_changed` `reasoning.effort` / `reasoning.budgetTokens`: sent as another `thinkingLevel` (a level the
 *   model lacks, `none` on a model that cannot turn thinking off) or a clamped `thinkingBudget` (see
 *   `geminiThinkingRange`). An effort sent as its budget (`REASONING_BUDGETS`) is the mapping, not a change.
 * Cache marks (`cacheControl`) are no warning: Gemini caches implicitly, and a mark is a hint (see `CacheControl`).
 * Call it after the request was converted (the conversion refuses what it cannot send).
 */
export function geminiRequestWarnings(request: GenerateRequest, reasoning: boolean, modelId: string): CallWarning[] | undefined {
  let warnings: CallWarning[] | undefined;
  let started = false;
  const messages = request.messages;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    if (m.role !== 'system') {
      started = true;
      if (m.role === 'user' && m.name !== undefined && m.name !== '') {
        (warnings ??= []).push({ code: 'setting_not_sent', field: `messages.${i}.name`, message: `messages.${i}.name was not sent: Gemini messages carry no author name.` });
      }
    } else if (started && m.content !== '') {
      (warnings ??= []).push({
        code: 'system_message_hoisted',
        field: `messages.${i}`,
        message: `messages.${i} (system) was joined into the top-level systemInstruction: Gemini takes system instructions only there, not within the conversation.`,
      });
    }
  }
  if (request.user !== undefined) {
    (warnings ??= []).push({ code: 'setting_not_sent', field: 'user', message: 'user was not sent: Gemini has no end-user id field.' });
  }
  if (typeof request.promptCacheKey === 'string' && request.promptCacheKey !== '') {
    (warnings ??= []).push({
      code: 'setting_not_sent',
      field: 'promptCacheKey',
      message: 'promptCacheKey was not sent: Gemini has no prompt cache key (it caches prompt prefixes on its own); the router still used it for prompt-cache affinity.',
    });
  }
  if (request.reasoning !== undefined) {
    if (!reasoning) {
      if (wantsThinking(request.reasoning)) {
        (warnings ??= []).push({
          code: 'setting_not_sent',
          field: 'reasoning',
          message: 'reasoning was not sent: this deployment has no reasoning capability (no thinkingConfig).',
        });
      }
    } else {
      const changed = thinkingChange(request.reasoning, modelId);
      if (changed) (warnings ??= []).push(changed);
    }
  }
  return warnings;
}

/**
 * A `setting_changed` warning when the `thinkingConfig` sent is not what `reasoning` asked for, else undefined:
 * the same choices as `convertToGeminiRequest`'s `thinkingConfig`.
 */
function thinkingChange(asked: ReasoningOptions, modelId: string): CallWarning | undefined {
  const range = geminiThinkingRange(modelId);
  const budget = reasoningBudget(asked);
  const field = asked.effort !== undefined ? 'reasoning.effort' : 'reasoning.budgetTokens';
  const what = asked.effort !== undefined ? `reasoning.effort ${asked.effort}` : `reasoning.budgetTokens ${asked.budgetTokens}`;
  if (range.levels) {
    const effort = asked.effort ?? (budget === 0 ? 'none' : undefined);
    if (effort !== undefined) {
      const level = geminiThinkingLevel(effort, range.levels);
      if (level === effort) return undefined;
      const off = effort === 'none' ? ' and cannot turn thinking off' : '';
      return { code: 'setting_changed', field, message: `${what} was sent as thinkingLevel ${level}: ${modelId} takes ${range.levels.join(', ')}${off}.` };
    }
  }
  if (budget === undefined) return undefined;
  const sent = geminiThinkingBudget(budget, range.budget);
  if (sent === budget || !range.budget) return undefined;
  const { min, max, off } = range.budget;
  return {
    code: 'setting_changed',
    field,
    message: `${what} (a budget of ${budget} tokens) was sent as thinkingBudget ${sent}: ${modelId} takes ${min} to ${max}${off ? ' or 0 (off)' : ' and cannot turn thinking off'}.`,
  };
}
