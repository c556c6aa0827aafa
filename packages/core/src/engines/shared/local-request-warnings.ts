import type { GenerateRequest } from '../../spec/messages.js';
import type { CallWarning } from '../../spec/warnings.js';
import { asksLogitBias, logitBiasNotSent } from './logit-bias.js';
import { wantsThinking } from './reasoning.js';

/**
 * What a local model engine (`gguf`, `onnx`) leaves out of a request it accepts, as `setting_not_sent`
 * warnings, or undefined when nothing. What such an engine cannot do at all it refuses instead (tools, images,
 * tool turns; JSON mode on `onnx`); what it does, it does (maxTokens, temperature, topP, seed, stop).
 * - `messages.N.name`: a system, user or assistant message's author name (the prompt is the messages' text);
 * - `user`: there is no provider to tell the end user to;
 * - `promptCacheKey`: there is no provider prompt cache to route (the router still used it for affinity);
 * - `reasoning` asking for thinking (an effort other than `none`, a budget above 0): no thinking control;
 * - `frequencyPenalty`, `presencePenalty` (non-zero) where the engine has no penalties (`does.penalties` false:
 *   `onnx`; `gguf` applies them);
 * - `topK` where the engine's sampler has no top-k (`does.topK` false; `gguf` and `onnx` apply it);
 * - `logprobs` where the engine cannot report token log probabilities (`does.logprobs` false; `gguf` and `onnx`
 *   compute them from the model's own probabilities);
 * - `logitBias` (non-empty): no token bias is applied;
 * - `verbosity`: a local model has no length/detail control besides its prompt (no engine sends it);
 * - `responseFormat.description` (non-empty) of a JSON schema the engine accepts (`gguf`: the grammar enforces the
 *   schema, and nothing puts the description in the prompt).
 * `parallelToolCalls` and a tool's `strict` are no warning: these engines refuse tools (with `toolChoice: 'none'`
 * they are never called), and without tools they mean nothing.
 * Cache marks (`cacheControl`) are no warning: a hint (see `CacheControl`). `provider` names the engine in messages.
 */
export function localRequestWarnings(
  request: GenerateRequest,
  provider: string,
  does: { penalties?: boolean; topK?: boolean; logprobs?: boolean } = {},
): CallWarning[] | undefined {
  let warnings: CallWarning[] | undefined;
  const messages = request.messages;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    if (m.role !== 'tool' && m.name !== undefined && m.name !== '') {
      (warnings ??= []).push({
        code: 'setting_not_sent',
        field: `messages.${i}.name`,
        message: `messages.${i}.name was not used: the ${provider} engine's prompt carries no author names.`,
      });
    }
  }
  if (request.user !== undefined) {
    (warnings ??= []).push({ code: 'setting_not_sent', field: 'user', message: `user was not used: the ${provider} engine is local (no provider to tell).` });
  }
  if (typeof request.promptCacheKey === 'string' && request.promptCacheKey !== '') {
    (warnings ??= []).push({
      code: 'setting_not_sent',
      field: 'promptCacheKey',
      message: `promptCacheKey was not used: the ${provider} engine has no provider prompt cache; the router still used it for prompt-cache affinity.`,
    });
  }
  if (request.reasoning !== undefined && wantsThinking(request.reasoning)) {
    (warnings ??= []).push({ code: 'setting_not_sent', field: 'reasoning', message: `reasoning was not used: the ${provider} engine has no thinking control.` });
  }
  if (!does.penalties) {
    for (const field of ['frequencyPenalty', 'presencePenalty'] as const) {
      const value = request[field];
      if (value !== undefined && value !== 0) {
        (warnings ??= []).push({ code: 'setting_not_sent', field, message: `${field} was not used: the ${provider} engine's sampler has no repetition penalties.` });
      }
    }
  }
  if (request.topK !== undefined && !does.topK) {
    (warnings ??= []).push({ code: 'setting_not_sent', field: 'topK', message: `topK was not used: the ${provider} engine's sampler has no top-k.` });
  }
  if (asksLogitBias(request.logitBias)) (warnings ??= []).push(logitBiasNotSent(`the ${provider} engine`));
  if (request.verbosity !== undefined) {
    (warnings ??= []).push({ code: 'setting_not_sent', field: 'verbosity', message: `verbosity was not used: the ${provider} engine has no verbosity control (only the prompt can ask for a shorter or longer answer).` });
  }
  const format = request.responseFormat;
  if (format?.type === 'json_schema' && format.description) {
    (warnings ??= []).push({
      code: 'setting_not_sent',
      field: 'responseFormat.description',
      message: `responseFormat.description was not used: the ${provider} engine enforces the schema with a grammar and puts no description in the prompt; put it in the messages.`,
    });
  }
  if (request.logprobs !== undefined && !does.logprobs) {
    (warnings ??= []).push({ code: 'setting_not_sent', field: 'logprobs', message: `logprobs was not used: the ${provider} engine does not report token log probabilities.` });
  }
  return warnings;
}
