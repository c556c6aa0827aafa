import type { GenerateRequest } from '../../spec/messages.js';
import type { CallWarning } from '../../spec/warnings.js';
import type { ReasoningOptions } from '../../spec/reasoning.js';
import { reasoningEffort, wantsThinking } from '../shared/reasoning.js';
import { openAIReasoningEfforts } from './openai-reasoning-models.js';
import { openAIKnobWarnings } from './openai-knob-warnings.js';
import { openAIOptionPath } from './openai-option-path.js';
import { prefillWarning } from './openai-prefill.js';
import { openAISamplingWarnings } from './openai-sampling-warnings.js';
import { openAIStrictWarnings } from './openai-strict-warnings.js';
import { toolResultWarnings } from '../shared/tool-result-warnings.js';
import { PROMPT_CACHE_KEY_MAX_LENGTH } from './prompt-cache-key.js';
import type { ResolvedEndpoint } from './resolve-endpoint.js';

/**
 * What `buildOpenAIRequestBody` changed or left out of a request it accepts, read from the `body` it built (so a
 * warning never names a value that was not on the wire), as `CallWarning`s, or undefined when nothing (no
 * allocation then: the engine's hot path). `setting_not_sent`:
 * - a `model` in `providerOptions.openai` (or the preset's key) other than the deployment's: the deployment's model is
 *   sent (`keptOptionWarnings`);
 * - `promptCacheKey` (non-empty) the body carries no `prompt_cache_key` for (every preset but `openai`, unless
 *   `options.promptCacheKey`): the caller set it for the provider's cache; the router still used it for
 *   prompt-cache affinity;
 * - `user` the body carries no `user` for (Mistral takes no `user` field);
 * - `reasoning` that asks for thinking (an effort other than `none`, a budget above 0) where the body carries no
 *   `reasoning_effort` (a deployment without the `reasoning` capability: the field would be a 400 there).
 *   Turning thinking off is no loss.
 * `setting_changed` when the body carries another value: `promptCacheKey` over 64 characters sent shortened
 * (`shortPromptCacheKey`); `reasoning.effort` sent as the nearest effort the model family takes
 * (`openAIReasoningEffort`); `reasoning.budgetTokens` (without an effort) sent as the effort of its budget (chat
 * completions take no budget). Where the caller's `providerOptions` (`openai`, or the preset's own key, merged
 * over the body last) set the wire field, the warning names them instead: a `reasoning_effort` there equal to
 * the asked effort is no warning, even on a deployment without the `reasoning` capability.
 * `frequencyPenalty`, `presencePenalty`, `parallelToolCalls`, `temperature`, `topP` and `stop` the body does not carry as asked: see
 * `openAISamplingWarnings`. `topK`, `verbosity` and `logprobs` the body does not carry as asked: see
 * `openAIKnobWarnings`. A `strict: true` (a tool's, a JSON schema format's) the body does not carry: see
 * `openAIStrictWarnings`. A tool message's images (`messages.N.parts.K`) and `isError` (`messages.N.isError`): chat
 * completions take a tool result as text, without an error flag (`toolResultWarnings`).
 * `logitBias` and the messages' author names (`messages.N.name`) where the provider refuses them (Groq:
 * `ResolvedEndpoint.logitBias`, `.messageNames`): `setting_not_sent`. A final assistant message the request asks to be
 * continued (`continueFinalMessage`, a prefill) that the server was not asked to continue (no `options.prefill` nor
 * preset default): `setting_not_sent` naming `messages.N` (`prefillWarning`).
 * Cache marks (`cacheControl`) are no warning: OpenAI-compatible servers cache prompt prefixes on their own, and
 * a mark is a hint (see `CacheControl`). `providerOptions` of other providers are not this engine's.
 */
export function openAIRequestWarnings(
  request: GenerateRequest,
  endpoint: ResolvedEndpoint,
  body: Readonly<Record<string, unknown>>,
  reasoning: boolean,
  modelId: string,
): CallWarning[] | undefined {
  let warnings: CallWarning[] | undefined;
  if (request.providerOptions !== undefined) warnings = keptOptionWarnings(request, endpoint, body, modelId);
  const key = request.promptCacheKey;
  if (typeof key === 'string' && key !== '' && body.prompt_cache_key !== key) {
    (warnings ??= []).push(promptCacheKeyWarning(key, body.prompt_cache_key, request, endpoint));
  }
  if (request.user !== undefined && body.user !== request.user) {
    const set = openAIOptionPath(request, endpoint, 'user');
    (warnings ??= []).push(
      body.user == null
        ? { code: 'setting_not_sent', field: 'user', message: set ? `user was not sent: ${set} removed it.` : `user was not sent: ${endpoint.preset.label} takes no user field.` }
        : { code: 'setting_changed', field: 'user', message: `user was sent as the value of ${set ?? 'another field'}.` },
    );
  }
  if (request.reasoning !== undefined) {
    const changed = reasoningWarning(request.reasoning, body.reasoning_effort, request, endpoint, reasoning, modelId);
    if (changed) (warnings ??= []).push(changed);
  }
  if (
    request.frequencyPenalty !== undefined ||
    request.presencePenalty !== undefined ||
    request.logitBias !== undefined ||
    request.parallelToolCalls !== undefined ||
    request.temperature !== undefined ||
    request.topP !== undefined ||
    request.stop !== undefined
  ) {
    warnings = openAISamplingWarnings(request, endpoint, body, modelId, reasoning, warnings);
  }
  if (request.topK !== undefined || request.verbosity !== undefined || request.logprobs !== undefined) {
    warnings = openAIKnobWarnings(request, endpoint, body, modelId, reasoning, warnings);
  }
  if (request.tools?.some((t) => t.strict === true) || (request.responseFormat?.type === 'json_schema' && request.responseFormat.strict === true)) {
    warnings = openAIStrictWarnings(request, endpoint, body, warnings);
  }
  if (!endpoint.messageNames) warnings = messageNameWarnings(request, endpoint, warnings);
  const prefill = prefillWarning(request, endpoint);
  if (prefill) (warnings ??= []).push(prefill);
  return toolResultWarnings(request.messages, 'OpenAI-compatible', false, warnings);
}

/** Each system, user or assistant message's author `name` a provider that refuses the field (Groq) was not sent. */
function messageNameWarnings(request: GenerateRequest, endpoint: ResolvedEndpoint, into: CallWarning[] | undefined): CallWarning[] | undefined {
  request.messages.forEach((m, i) => {
    if (m.role !== 'tool' && m.name) (into ??= []).push({ code: 'setting_not_sent', field: `messages.${i}.name`, message: `messages.${i}.name was not sent: ${endpoint.preset.label} refuses messages[].name.` });
  });
  return into;
}

/**
 * A `model` set in `providerOptions.openai` (or the preset's own key): not sent (`buildOpenAIRequestBody`), the
 * deployment's model is, which the router priced, limited and checked the call for. The deployment's own model
 * there is no warning (nothing changed), also where the URL names it (Azure: its model or deployment name).
 */
function keptOptionWarnings(request: GenerateRequest, endpoint: ResolvedEndpoint, body: Readonly<Record<string, unknown>>, modelId: string): CallWarning[] | undefined {
  let warnings: CallWarning[] | undefined;
  const sent = body.model === undefined ? 'the deployment (its URL) names the model' : `the deployment's model ${String(body.model)} was sent`;
  for (const key of endpoint.providerName === 'openai' ? ['openai'] : ['openai', endpoint.providerName]) {
    const model = request.providerOptions?.[key]?.model;
    if (model === undefined || sameModel(model, body, modelId, endpoint)) continue;
    const field = `providerOptions.${key}.model`;
    (warnings ??= []).push({ code: 'setting_not_sent', field, message: `${field} was not sent: ${sent} (configure another deployment for another model).` });
  }
  return warnings;
}

/**
 * `model` names the model the call went to: the body's, or, where the URL names it (Azure: no model in the body), the
 * deployment's model id or its Azure deployment name.
 */
function sameModel(model: unknown, body: Readonly<Record<string, unknown>>, modelId: string, endpoint: ResolvedEndpoint): boolean {
  if (body.model !== undefined) return model === body.model;
  return model === modelId || model === endpoint.azure?.deployment;
}

/** The warning for a non-empty `promptCacheKey` the body does not carry as it is (`sent`: its `prompt_cache_key`). */
function promptCacheKeyWarning(key: string, sent: unknown, request: GenerateRequest, endpoint: ResolvedEndpoint): CallWarning {
  const set = openAIOptionPath(request, endpoint, 'prompt_cache_key');
  const affinity = 'the router still used it for prompt-cache affinity.';
  if (sent == null) {
    return {
      code: 'setting_not_sent',
      field: 'promptCacheKey',
      message: set
        ? `promptCacheKey was not sent: ${set} removed it; ${affinity}`
        : `promptCacheKey was not sent: ${endpoint.preset.label} is not known to take prompt_cache_key (set options.promptCacheKey on the model to send it); ${affinity}`,
    };
  }
  if (set) return { code: 'setting_changed', field: 'promptCacheKey', message: `promptCacheKey was sent as the value of ${set}; the router used promptCacheKey for prompt-cache affinity.` };
  return {
    code: 'setting_changed',
    field: 'promptCacheKey',
    message: `promptCacheKey was sent shortened to ${PROMPT_CACHE_KEY_MAX_LENGTH} characters (its first ${PROMPT_CACHE_KEY_MAX_LENGTH - 17}, ':' and a hash of the whole key): prompt_cache_key takes at most ${PROMPT_CACHE_KEY_MAX_LENGTH}; the router used the whole key for prompt-cache affinity.`,
  };
}

/** The warning when the body's `reasoning_effort` (`sent`) is not what `reasoning` asked for, else undefined. */
function reasoningWarning(
  asked: ReasoningOptions,
  sent: unknown,
  request: GenerateRequest,
  endpoint: ResolvedEndpoint,
  reasoning: boolean,
  modelId: string,
): CallWarning | undefined {
  if (sent == null) {
    // A budget of 0 (thinking off) not sent as `none` (the endpoint is not known to take it, `endpoint.reasoningNone`):
    // the model thinks as it does by default, which may well be to think (Groq's qwen3 does when the field is absent).
    if (reasoning && asked.effort === undefined && asked.budgetTokens === 0 && !openAIOptionPath(request, endpoint, 'reasoning_effort')) {
      return {
        code: 'setting_not_sent',
        field: 'reasoning.budgetTokens',
        message: `reasoning.budgetTokens 0 was not sent: ${endpoint.preset.label} is not known to take reasoning_effort none for ${modelId}, so the model may still think (options.reasoningNone sends none).`,
      };
    }
    if (!wantsThinking(asked)) return undefined;
    const set = openAIOptionPath(request, endpoint, 'reasoning_effort');
    return {
      code: 'setting_not_sent',
      field: 'reasoning',
      message: set
        ? `reasoning was not sent: ${set} removed it.`
        : reasoning
          ? 'reasoning was not sent: the body carries no reasoning_effort.'
          : 'reasoning was not sent: this deployment has no reasoning capability (add reasoning to its capabilities if the model takes reasoning_effort).',
    };
  }
  if (asked.effort === sent) return undefined;
  if (asked.effort === undefined && asked.budgetTokens === undefined) return undefined;
  // Thinking off (budget 0) sent as `none`: served as asked, nothing to warn about.
  if (asked.effort === undefined && asked.budgetTokens === 0 && sent === 'none') return undefined;
  const set = openAIOptionPath(request, endpoint, 'reasoning_effort');
  const what = asked.effort !== undefined ? `reasoning.effort ${asked.effort}` : `reasoning.budgetTokens ${asked.budgetTokens}`;
  const field = asked.effort !== undefined ? 'reasoning.effort' : 'reasoning.budgetTokens';
  let message: string;
  if (set) message = `${what} was sent as reasoning_effort ${String(sent)}: ${set} took its place.`;
  else if (asked.budgetTokens === 0 && sent !== 'none') {
    message = `${what} was sent as reasoning_effort ${String(sent)}: ${modelId} cannot turn thinking off (it takes ${(openAIReasoningEfforts(modelId) ?? []).join(', ')}).`;
  } else if (asked.effort === undefined) {
    message = `${what} was sent as reasoning_effort ${String(sent)}: chat completions take an effort, not a token budget`;
    message += reasoningEffort(asked) === sent ? '.' : `, and ${modelId} takes ${(openAIReasoningEfforts(modelId) ?? []).join(', ')}.`;
  }
  else message = `${what} was sent as ${String(sent)}: ${modelId} takes ${(openAIReasoningEfforts(modelId) ?? []).join(', ')}.`;
  return { code: 'setting_changed', field, message };
}
