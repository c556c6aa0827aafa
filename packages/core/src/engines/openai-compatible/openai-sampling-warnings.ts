import type { GenerateRequest } from '../../spec/messages.js';
import type { CallWarning } from '../../spec/warnings.js';
import { openAIOptionPath } from './openai-option-path.js';
import { openAIParallelToolCallsRefusal, openAIPenaltiesRefusal } from './openai-sampling-limits.js';
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
