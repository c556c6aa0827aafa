import type { GenerateRequest } from '../../spec/messages.js';
import type { CallWarning } from '../../spec/warnings.js';
import type { GeminiGenerateContentRequest } from './gemini-api-types.js';

const PENALTIES = ['frequencyPenalty', 'presencePenalty'] as const;

/**
 * Gemini's limit on `generationConfig.stopSequences`: "up to 5" (Gemini API reference, GenerationConfig; a 6th is a
 * 400 "the number of stop_sequences must not exceed 5", continuedev/continue#2702; Vertex AI: "supported range is
 * from 1 (inclusive) to 6 (exclusive)", continuedev/continue#7849). More go as the first 5, with a warning.
 */
export const GEMINI_MAX_STOP_SEQUENCES = 5;
const OPTIONS_PATH = 'providerOptions.gemini.generationConfig';

/**
 * The warnings for `frequencyPenalty`, `presencePenalty`, `topK`, `logprobs` and `parallelToolCalls`, read from the
 * `body` sent (after `providerOptions.gemini`), pushed onto `into` (created on the first one); returns it:
 * - `setting_not_sent` `frequencyPenalty` / `presencePenalty`: a non-zero penalty the body's `generationConfig`
 *   does not carry (the model is not known to take penalties, `geminiTakesPenalties`, or the caller's
 *   `providerOptions.gemini.generationConfig` removed it); `setting_changed` when those options sent another value;
 * - `topK`, `logprobs` (`responseLogprobs`), `logprobs.topLogprobs` (`logprobs`, when above 0): the same, for a value
 *   the caller's `providerOptions.gemini.generationConfig` removed or replaced (they are always mapped);
 *   `setting_not_sent` `logprobs` with `logprobsRefused`: the model answered 400 "Logprobs is not enabled", and the
 *   call was sent without them (`GeminiEngine`);
 * - `setting_not_sent` `parallelToolCalls`: `false` with function declarations sent. Gemini has no switch for it
 *   (`toolConfig.functionCallingConfig` takes `mode` and `allowedFunctionNames` only), so the model may still call
 *   several functions in one answer. Without function declarations (none, or only built-in tools such as
 *   `googleSearch` from `providerOptions.gemini.tools`) or with `functionCallingConfig.mode` `NONE` (no function can
 *   be called, so none several times) it means nothing: no warning.
 * - `setting_changed` `stop`: more than `GEMINI_MAX_STOP_SEQUENCES` asked, the first 5 sent.
 * The body is read defensively (`providerOptions.gemini` is merged over it and may shape it freely): this runs
 * after the provider answered, and never throws.
 */
export function geminiSamplingWarnings(
  request: GenerateRequest,
  body: Readonly<GeminiGenerateContentRequest>,
  modelId: string,
  into: CallWarning[] | undefined,
  logprobsRefused = false,
): CallWarning[] | undefined {
  const generationConfig: unknown = body.generationConfig;
  const config = typeof generationConfig === 'object' && generationConfig !== null ? (generationConfig as Record<string, unknown>) : undefined;
  const extra = request.providerOptions?.gemini?.generationConfig;
  for (const field of PENALTIES) {
    const asked = request[field];
    const sent = config?.[field];
    if (asked === undefined || sent === asked) continue;
    const set = typeof extra === 'object' && extra !== null && Object.hasOwn(extra, field);
    if (sent != null) {
      (into ??= []).push({ code: 'setting_changed', field, message: `${field} was sent as the value of ${OPTIONS_PATH}.${field}.` });
    } else if (asked !== 0) {
      (into ??= []).push({
        code: 'setting_not_sent',
        field,
        message: set
          ? `${field} was not sent: ${OPTIONS_PATH}.${field} removed it.`
          : `${field} was not sent: ${modelId} is not known to take sampling penalties (Gemini answers 400 "Penalty is not enabled" to most models; set ${OPTIONS_PATH}.${field} to send it anyway).`,
      });
    }
  }
  if (request.topK !== undefined) into = compare('topK', request.topK, config?.topK, 'topK', into);
  if (request.logprobs !== undefined) {
    if (logprobsRefused) {
      (into ??= []).push({
        code: 'setting_not_sent',
        field: 'logprobs',
        message: `logprobs was not sent: ${modelId} gives no log probabilities (Gemini answers 400 "Logprobs is not enabled"); the call went without them.`,
      });
    } else if (config?.responseLogprobs !== true) {
      (into ??= []).push({ code: 'setting_not_sent', field: 'logprobs', message: `logprobs was not sent: ${OPTIONS_PATH}.responseLogprobs replaced it.` });
    } else if ((request.logprobs.topLogprobs ?? 0) > 0) {
      into = compare('logprobs.topLogprobs', request.logprobs.topLogprobs, config.logprobs, 'logprobs', into);
    }
  }
  const stop = request.stop;
  const sentStops = config?.stopSequences;
  if (stop !== undefined && stop.length > GEMINI_MAX_STOP_SEQUENCES && Array.isArray(sentStops) && sentStops.length === GEMINI_MAX_STOP_SEQUENCES && sentStops[0] === stop[0]) {
    (into ??= []).push({ code: 'setting_changed', field: 'stop', message: `stop was sent as its first ${GEMINI_MAX_STOP_SEQUENCES} sequences: Gemini takes at most ${GEMINI_MAX_STOP_SEQUENCES}.` });
  }
  if (request.parallelToolCalls === false && declaresFunctions(body.tools) && !callsNone(body.toolConfig)) {
    (into ??= []).push({
      code: 'setting_not_sent',
      field: 'parallelToolCalls',
      message: 'parallelToolCalls false was not sent: Gemini has no switch for it; the model may call several functions in one answer.',
    });
  }
  return into;
}

/** `setting_changed` / `setting_not_sent` for a mapped `field` whose `generationConfig.<key>` as sent is not what was asked. */
function compare(field: string, asked: unknown, sent: unknown, key: string, into: CallWarning[] | undefined): CallWarning[] | undefined {
  if (sent === asked) return into;
  (into ??= []).push(
    sent != null
      ? { code: 'setting_changed', field, message: `${field} was sent as the value of ${OPTIONS_PATH}.${key}.` }
      : { code: 'setting_not_sent', field, message: `${field} was not sent: ${OPTIONS_PATH}.${key} removed it.` },
  );
  return into;
}

/** True when `tools` (as sent) holds a tool with at least one function declaration. */
function declaresFunctions(tools: unknown): boolean {
  if (!Array.isArray(tools)) return false;
  return tools.some((t: unknown) => {
    const declarations = typeof t === 'object' && t !== null ? (t as { functionDeclarations?: unknown }).functionDeclarations : undefined;
    return Array.isArray(declarations) && declarations.length > 0;
  });
}

/** True when `toolConfig` (as sent) sets `functionCallingConfig.mode` to `NONE`: no function may be called. */
function callsNone(toolConfig: unknown): boolean {
  const calling = typeof toolConfig === 'object' && toolConfig !== null ? (toolConfig as { functionCallingConfig?: unknown }).functionCallingConfig : undefined;
  const mode = typeof calling === 'object' && calling !== null ? (calling as { mode?: unknown }).mode : undefined;
  return typeof mode === 'string' && mode.toUpperCase() === 'NONE';
}
