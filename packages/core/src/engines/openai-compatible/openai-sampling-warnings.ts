import type { GenerateRequest } from '../../spec/messages.js';
import type { CallWarning } from '../../spec/warnings.js';
import { openAIOptionPath } from './openai-option-path.js';
import { asksLogitBias } from '../shared/logit-bias.js';
import { OPENAI_MAX_STOP_SEQUENCES, openAILogitBiasRefusal, openAIParallelToolCallsRefusal, openAIPenaltiesRefusal, openAIReasoningSamplingRefusal } from './openai-sampling-limits.js';
import type { ResolvedEndpoint } from './resolve-endpoint.js';

const PENALTIES = [
  ['frequencyPenalty', 'frequency_penalty'],
  ['presencePenalty', 'presence_penalty'],
] as const;

/**
 * The warnings for `frequencyPenalty`, `presencePenalty` and `parallelToolCalls`, read from the `body` sent (after
 * `providerOptions`), pushed onto `into` (created on the first one); returns it:
 * - `setting_not_sent` when the body lacks the field: the model refuses it (`openAIPenaltiesRefusal`,
 *   `openAIParallelToolCallsRefusal`) or the caller's providerOptions removed it. A penalty of 0 (the default) and
 *   `parallelToolCalls: true` (the default, never sent) not sent are no loss, and `parallelToolCalls` without tools
 *   sent, or with `tool_choice: 'none'` sent (no tool can be called, so none several times), means nothing: no
 *   warning then. `reasoning`: the deployment's `reasoning` capability (see `openAIPenaltiesRefusal`);
 * - `setting_changed` when the caller's providerOptions sent another value.
 * `temperature`, `topP` (other than 1) and `stop` the body lacks because the model refuses them
 * (`openAIReasoningSamplingRefusal`: OpenAI's reasoning models): `setting_not_sent`; `stop` cut to OpenAI's 4
 * sequences: `setting_changed`; `logitBias` the model refuses (`openAILogitBiasRefusal`): `setting_not_sent`. Where
 * the caller's providerOptions set the wire field, it is theirs: no warning.
 */
export function openAISamplingWarnings(
  request: GenerateRequest,
  endpoint: ResolvedEndpoint,
  body: Readonly<Record<string, unknown>>,
  modelId: string,
  reasoning: boolean,
  into: CallWarning[] | undefined,
): CallWarning[] | undefined {
  for (const [field, wire] of PENALTIES) {
    const asked = request[field];
    if (asked === undefined || body[wire] === asked) continue;
    const set = openAIOptionPath(request, endpoint, wire);
    if (body[wire] != null) {
      (into ??= []).push({ code: 'setting_changed', field, message: `${field} was sent as the value of ${set ?? `another ${wire}`}.` });
    } else if (asked !== 0) {
      const why = set ? `${set} removed it` : (openAIPenaltiesRefusal(endpoint, modelId, reasoning) ?? `the body carries no ${wire}`);
      (into ??= []).push({ code: 'setting_not_sent', field, message: `${field} was not sent: ${why}.` });
    }
  }
  // `logitBias` the model refuses (`openAILogitBiasRefusal`, the penalties' rule): not sent, said as they are.
  if (request.logitBias !== undefined && body.logit_bias == null && asksLogitBias(request.logitBias) && openAIOptionPath(request, endpoint, 'logit_bias') === undefined) {
    const why = openAILogitBiasRefusal(endpoint, modelId, reasoning);
    if (why !== undefined) (into ??= []).push({ code: 'setting_not_sent', field: 'logitBias', message: `logitBias was not sent: ${why}.` });
  }
  for (const [field, wire] of [['temperature', 'temperature'], ['topP', 'top_p']] as const) {
    const asked = request[field];
    if (asked === undefined || body[wire] != null || openAIOptionPath(request, endpoint, wire) !== undefined) continue;
    const why = openAIReasoningSamplingRefusal(endpoint, modelId, reasoning, body.reasoning_effort, wire);
    if (why !== undefined) (into ??= []).push({ code: 'setting_not_sent', field, message: `${field} ${asked} was not sent: ${why}.` });
  }
  const stop = request.stop;
  if (stop !== undefined && stop.length > 0 && openAIOptionPath(request, endpoint, 'stop') === undefined) {
    const sent = body.stop;
    if (sent == null) {
      const why = openAIReasoningSamplingRefusal(endpoint, modelId, reasoning, body.reasoning_effort, 'stop');
      if (why !== undefined) (into ??= []).push({ code: 'setting_not_sent', field: 'stop', message: `stop was not sent: ${why}.` });
    } else if (Array.isArray(sent) && sent.length < stop.length) {
      (into ??= []).push({
        code: 'setting_changed',
        field: 'stop',
        message: `stop was sent as its first ${sent.length} sequences: ${endpoint.preset.label} takes at most ${OPENAI_MAX_STOP_SEQUENCES}.`,
      });
    }
  }
  const parallel = request.parallelToolCalls;
  const sent = body.parallel_tool_calls;
  if (parallel !== undefined && sent !== parallel && Array.isArray(body.tools) && body.tools.length > 0 && body.tool_choice !== 'none') {
    const set = openAIOptionPath(request, endpoint, 'parallel_tool_calls');
    if (sent != null) {
      (into ??= []).push({ code: 'setting_changed', field: 'parallelToolCalls', message: `parallelToolCalls was sent as the value of ${set ?? 'another parallel_tool_calls'}.` });
    } else if (parallel === false) {
      const why = set ? `${set} removed it` : (openAIParallelToolCallsRefusal(endpoint, modelId, body.reasoning_effort) ?? 'the body carries no parallel_tool_calls');
      (into ??= []).push({ code: 'setting_not_sent', field: 'parallelToolCalls', message: `parallelToolCalls false was not sent: ${why}; the model may call several tools in one answer.` });
    }
  }
  return into;
}
