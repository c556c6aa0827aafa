import type { GenerateRequest } from '../../spec/messages.js';
import type { CallWarning } from '../../spec/warnings.js';
import { openAILogprobsRefusal } from './openai-logprobs-limits.js';
import { openAIOptionPath } from './openai-option-path.js';
import { openAIVerbosityRefusal } from './openai-verbosity-limits.js';
import type { ResolvedEndpoint } from './resolve-endpoint.js';

/**
 * The warnings for `topK`, `verbosity` and `logprobs`, read from the `body` sent (after `providerOptions`), pushed
 * onto `into` (created on the first one); returns it:
 * - `setting_not_sent` when the body lacks the field: the endpoint or model does not take it
 *   (`endpoint.topK`, `openAIVerbosityRefusal`, `openAILogprobsRefusal`) or the caller's providerOptions removed it
 *   (`logprobs` counts as sent when the body's `logprobs` is `true`);
 * - `setting_changed` when the caller's providerOptions sent another value: `top_k`, `verbosity`, a `logprobs` other
 *   than `true` (a count, as Together takes: field `logprobs`, the result has none), or a `top_logprobs` other than
 *   the asked `topLogprobs` (field `logprobs.topLogprobs`).
 * A provider that takes `logprobs` but answers none is no warning here: the result simply has none.
 */
export function openAIKnobWarnings(
  request: GenerateRequest,
  endpoint: ResolvedEndpoint,
  body: Readonly<Record<string, unknown>>,
  modelId: string,
  reasoning: boolean,
  into: CallWarning[] | undefined,
): CallWarning[] | undefined {
  const topK = request.topK;
  if (topK !== undefined && body.top_k !== topK) {
    const set = openAIOptionPath(request, endpoint, 'top_k');
    if (body.top_k != null) (into ??= []).push({ code: 'setting_changed', field: 'topK', message: `topK was sent as the value of ${set ?? 'another top_k'}.` });
    else {
      const why = set ? `${set} removed it` : `${endpoint.preset.label} is not known to take top_k (set options.topK on the model to send it)`;
      (into ??= []).push({ code: 'setting_not_sent', field: 'topK', message: `topK was not sent: ${why}.` });
    }
  }
  const verbosity = request.verbosity;
  if (verbosity !== undefined && body.verbosity !== verbosity) {
    const set = openAIOptionPath(request, endpoint, 'verbosity');
    if (body.verbosity != null) {
      (into ??= []).push({ code: 'setting_changed', field: 'verbosity', message: `verbosity ${verbosity} was sent as the value of ${set ?? 'another verbosity'}.` });
    } else {
      const why = set ? `${set} removed it` : (openAIVerbosityRefusal(endpoint, modelId, verbosity) ?? 'the body carries no verbosity');
      (into ??= []).push({ code: 'setting_not_sent', field: 'verbosity', message: `verbosity ${verbosity} was not sent: ${why}.` });
    }
  }
  const logprobs = request.logprobs;
  if (logprobs !== undefined) {
    if (body.logprobs !== true) {
      const set = openAIOptionPath(request, endpoint, 'logprobs');
      const sent = body.logprobs;
      if (set && sent != null && sent !== false) {
        // Another value in its place (Together's `logprobs` is a count): sent, but not read back.
        (into ??= []).push({
          code: 'setting_changed',
          field: 'logprobs',
          message: `logprobs were sent as the value of ${set} (${JSON.stringify(sent) ?? typeof sent}), not logprobs: true; this engine reads logprobs only from OpenAI's answer shape, so the result has none.`,
        });
      } else {
        const why = set ? `${set} removed it` : (openAILogprobsRefusal(endpoint, modelId, reasoning, body.reasoning_effort) ?? 'the body carries no logprobs');
        (into ??= []).push({ code: 'setting_not_sent', field: 'logprobs', message: `logprobs were not sent: ${why}; the result has none.` });
      }
    } else {
      const asked = logprobs.topLogprobs ?? 0;
      const sent = body.top_logprobs ?? 0;
      if (sent !== asked) {
        const set = openAIOptionPath(request, endpoint, 'top_logprobs');
        (into ??= []).push({
          code: 'setting_changed',
          field: 'logprobs.topLogprobs',
          message: `logprobs.topLogprobs ${asked} was sent as top_logprobs ${String(sent)}${set ? `: ${set} took its place` : ''}.`,
        });
      }
    }
  }
  return into;
}
