import type { GenerateRequest } from '../../spec/messages.js';
import type { CallWarning } from '../../spec/warnings.js';
import { reasoningBudget, wantsThinking } from '../shared/reasoning.js';
import type { GeminiGenerateContentRequest } from './gemini-api-types.js';
import { asksLogitBias, logitBiasNotSent } from '../shared/logit-bias.js';
import { toolResultWarnings } from '../shared/tool-result-warnings.js';
import { GEMINI_MAX_STOP_SEQUENCES, geminiSamplingWarnings } from './gemini-sampling-warnings.js';
import { geminiThinkingRange } from './gemini-thinking-models.js';

/**
 * What `convertToGeminiRequest` changes or leaves out of a request it accepts, as `CallWarning`s, or undefined
 * when nothing:
 * - `setting_not_sent` `providerOptions.gemini.model`: a model other than the deployment's there (the deployment's
 *   is called, the one the router priced, limited and checked);
 * - `system_message_hoisted` (`messages.N`): a non-empty system message after the first user, assistant or tool
 *   message; Gemini takes system text only as the top-level `systemInstruction`, where it is joined;
 * - `setting_not_sent` `messages.N.name`: a system, user or assistant message's `name` (Gemini contents have no
 *   author name);
 * - `setting_not_sent` `user`, `promptCacheKey`: Gemini has no end-user id and no cache key (it caches prompt
 *   prefixes implicitly); the router still used the key for prompt-cache affinity;
 * - `setting_not_sent` `reasoning`: thinking asked for (an effort other than `none`, a budget above 0) on a
 *   deployment without the `reasoning` capability;
 * - `setting_changed` `reasoning.effort` / `reasoning.budgetTokens`: sent as another `thinkingLevel` (a level the
 *   model lacks, `none` on a model that cannot turn thinking off) or a clamped `thinkingBudget` (see
 *   `geminiThinkingRange`). An effort sent as its budget (`REASONING_BUDGETS`) is the mapping, not a change.
 * - `setting_not_sent` `logitBias` (non-empty), `verbosity`: Gemini has neither;
 * - `setting_not_sent` `messages.N.parts.K`: an image of a tool message (its function response goes as text; see
 *   `toolResultWarnings`);
 * - `setting_not_sent` / `setting_changed` `frequencyPenalty`, `presencePenalty`, `topK`, `logprobs`,
 *   `logprobs.topLogprobs`, `parallelToolCalls`: see `geminiSamplingWarnings` (`logprobsRefused`: the model
 *   refused log probabilities, and the body went without them).
 * The reasoning warnings are read from the `thinkingConfig` the `body` carries, so they never name a value that
 * was not sent: where `providerOptions.gemini.generationConfig.thinkingConfig` replaced the mapped one ("providerOptions
 * still win"), a warning names it as what took the place of `reasoning`, and a caller's level or budget equal to
 * the one asked for is no warning.
 * - what the conversion itself changed (`converted`, the `warnings` of its settings): `setting_changed`
 *   `messages.N.toolCalls.K.arguments` (not a JSON object: sent as `{ _raw }`), `tools.N.parameters...` and
 *   `responseFormat.schema...` (a schema keyword Gemini refuses, see `convertJsonSchemaToGeminiSchema`),
 *   `setting_not_sent` `responseFormat` (JSON mode beside tools on a model before Gemini 3).
 * Cache marks (`cacheControl`) are no warning: Gemini caches implicitly, and a mark is a hint (see `CacheControl`).
 * Call it with the converted body (the conversion refuses what it cannot send).
 */
export function geminiRequestWarnings(
  request: GenerateRequest,
  body: Readonly<GeminiGenerateContentRequest>,
  reasoning: boolean,
  modelId: string,
  logprobsRefused = false,
  converted?: readonly CallWarning[],
): CallWarning[] | undefined {
  let warnings: CallWarning[] | undefined;
  const model = request.providerOptions?.gemini?.model;
  if (model !== undefined && withoutModelsPrefix(model) !== withoutModelsPrefix(modelId)) {
    const field = 'providerOptions.gemini.model';
    warnings = [{ code: 'setting_not_sent', field, message: `${field} was not sent: the deployment's model ${modelId} was called (configure another deployment for another model).` }];
  }
  let started = false;
  const messages = request.messages;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    // A tool message's `name` is the function's (sent), not an author's.
    if (m.role !== 'tool' && m.name !== undefined && m.name !== '') {
      (warnings ??= []).push({ code: 'setting_not_sent', field: `messages.${i}.name`, message: `messages.${i}.name was not sent: Gemini messages carry no author name.` });
    }
    if (m.role !== 'system') started = true;
    else if (started && m.content !== '') {
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
    const changed = thinkingWarning(request, body.generationConfig?.thinkingConfig, reasoning, modelId);
    if (changed) (warnings ??= []).push(changed);
  }
  if (asksLogitBias(request.logitBias)) (warnings ??= []).push(logitBiasNotSent('Gemini'));
  if (request.verbosity !== undefined) {
    (warnings ??= []).push({ code: 'setting_not_sent', field: 'verbosity', message: 'verbosity was not sent: Gemini has no verbosity setting.' });
  }
  warnings = geminiSchemaWarnings(request, body, warnings);
  warnings = toolResultWarnings(messages, 'Gemini', true, warnings);
  if (
    request.frequencyPenalty !== undefined ||
    request.presencePenalty !== undefined ||
    request.parallelToolCalls === false ||
    request.topK !== undefined ||
    request.logprobs !== undefined ||
    (request.stop !== undefined && request.stop.length > GEMINI_MAX_STOP_SEQUENCES)
  ) {
    warnings = geminiSamplingWarnings(request, body, modelId, warnings, logprobsRefused);
  }
  if (converted !== undefined && converted.length > 0) (warnings ??= []).push(...converted);
  return warnings;
}

/**
 * `setting_not_sent` for a tool's `strict: true` (`tools.N.strict`: Gemini function declarations have no strict
 * mode) and a `responseFormat.description` the body's `responseSchema` does not carry (the schema had a description
 * of its own, or the caller's providerOptions replaced it).
 */
function geminiSchemaWarnings(request: GenerateRequest, body: Readonly<GeminiGenerateContentRequest>, warnings: CallWarning[] | undefined): CallWarning[] | undefined {
  const tools = request.tools;
  if (tools !== undefined) {
    for (let k = 0; k < tools.length; k++) {
      if (tools[k]!.strict === true) {
        (warnings ??= []).push({
          code: 'setting_not_sent',
          field: `tools.${k}.strict`,
          message: `tools.${k}.strict was not sent: Gemini function declarations have no strict mode; the arguments are not guaranteed to follow the schema.`,
        });
      }
    }
  }
  const format = request.responseFormat;
  // Without a responseSchema (JSON mode left out beside tools) the conversion said so already.
  if (format?.type === 'json_schema' && format.description && body.generationConfig?.responseMimeType !== undefined) {
    const schema = body.generationConfig?.responseSchema as { description?: unknown } | undefined;
    if (schema?.description !== format.description) {
      (warnings ??= []).push({
        code: 'setting_not_sent',
        field: 'responseFormat.description',
        message: schema
          ? 'responseFormat.description was not sent: Gemini takes it only as the description of the response schema, and the schema sent has another.'
          : 'responseFormat.description was not sent: Gemini takes it only as the description of the response schema, and no schema was sent.',
      });
    }
  }
  return warnings;
}

const OPTIONS_PATH = 'providerOptions.gemini.generationConfig.thinkingConfig';

/** True when the caller's `providerOptions.gemini.generationConfig` set `thinkingConfig` (which then is what is sent). */
function thinkingFromOptions(request: GenerateRequest): boolean {
  const config = request.providerOptions?.gemini?.generationConfig;
  return typeof config === 'object' && config !== null && Object.hasOwn(config, 'thinkingConfig');
}

/**
 * The warning when the `thinkingConfig` sent (`sent`, from the body) is not what `request.reasoning` asked for,
 * else undefined. The explanation: the caller's providerOptions when they set it, else what the model takes (the
 * same choices as `convertToGeminiRequest`'s `thinkingConfig`), else the missing `reasoning` capability.
 */
function thinkingWarning(request: GenerateRequest, sent: unknown, reasoning: boolean, modelId: string): CallWarning | undefined {
  const asked = request.reasoning!;
  const fromOptions = thinkingFromOptions(request);
  const config = typeof sent === 'object' && sent !== null ? (sent as Record<string, unknown>) : undefined;
  const level = typeof config?.thinkingLevel === 'string' ? config.thinkingLevel : undefined;
  const sentBudget = typeof config?.thinkingBudget === 'number' ? config.thinkingBudget : undefined;
  const field = asked.effort !== undefined ? 'reasoning.effort' : 'reasoning.budgetTokens';
  const what = asked.effort !== undefined ? `reasoning.effort ${asked.effort}` : `reasoning.budgetTokens ${asked.budgetTokens}`;
  const budget = reasoningBudget(asked);
  if (level === undefined && sentBudget === undefined) {
    if (fromOptions) {
      if (asked.effort === undefined && asked.budgetTokens === undefined) return undefined;
      return {
        code: 'setting_not_sent',
        field: 'reasoning',
        message: config ? `reasoning was not sent: ${OPTIONS_PATH} (with no thinkingLevel or thinkingBudget) took its place.` : `reasoning was not sent: ${OPTIONS_PATH} removed it.`,
      };
    }
    if (reasoning || !wantsThinking(asked)) return undefined;
    return { code: 'setting_not_sent', field: 'reasoning', message: 'reasoning was not sent: this deployment has no reasoning capability (no thinkingConfig).' };
  }
  const range = geminiThinkingRange(modelId);
  if (level !== undefined) {
    const effort = asked.effort ?? (budget === 0 ? 'none' : undefined);
    if (level === effort) return undefined;
    const why = fromOptions ? `${OPTIONS_PATH} took its place` : `${modelId} takes ${(range.levels ?? []).join(', ')}${effort === 'none' ? ' and cannot turn thinking off' : ''}`;
    return { code: 'setting_changed', field, message: `${what} was sent as thinkingLevel ${level}: ${why}.` };
  }
  if (sentBudget === budget || budget === undefined) return undefined;
  let why: string;
  if (fromOptions) why = `${OPTIONS_PATH} took its place`;
  else if (range.budget) why = `${modelId} takes ${range.budget.min} to ${range.budget.max}${range.budget.off ? ' or 0 (off)' : ' and cannot turn thinking off'}`;
  else return undefined;
  return { code: 'setting_changed', field, message: `${what} (a budget of ${budget} tokens) was sent as thinkingBudget ${sentBudget}: ${why}.` };
}

/** A Gemini model name without its `models/` prefix (both forms name the same model); other values as they are. */
function withoutModelsPrefix(model: unknown): unknown {
  return typeof model === 'string' && model.startsWith('models/') ? model.slice('models/'.length) : model;
}
