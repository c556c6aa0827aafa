import type { GenerateRequest } from '../../spec/messages.js';
import type { CallWarning } from '../../spec/warnings.js';
import type { GeminiGenerateContentRequest } from './gemini-api-types.js';

const PENALTIES = ['frequencyPenalty', 'presencePenalty'] as const;
const OPTIONS_PATH = 'providerOptions.gemini.generationConfig';

/**
 * The warnings for `frequencyPenalty`, `presencePenalty` and `parallelToolCalls`, read from the `body` sent (after
 * `providerOptions.gemini`), pushed onto `into` (created on the first one); returns it:
 * - `setting_not_sent` `frequencyPenalty` / `presencePenalty`: a non-zero penalty the body's `generationConfig`
 *   does not carry (the model is not known to take penalties, `geminiTakesPenalties`, or the caller's
 *   `providerOptions.gemini.generationConfig` removed it); `setting_changed` when those options sent another value;
 * - `setting_not_sent` `parallelToolCalls`: `false` with function declarations sent. Gemini has no switch for it
 *   (`toolConfig.functionCallingConfig` takes `mode` and `allowedFunctionNames` only), so the model may still call
 *   several functions in one answer. Without tools it means nothing: no warning.
 */
export function geminiSamplingWarnings(
  request: GenerateRequest,
  body: Readonly<GeminiGenerateContentRequest>,
  modelId: string,
  into: CallWarning[] | undefined,
): CallWarning[] | undefined {
  const config = body.generationConfig;
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
  if (request.parallelToolCalls === false && body.tools?.some((t) => t.functionDeclarations.length > 0)) {
    (into ??= []).push({
      code: 'setting_not_sent',
      field: 'parallelToolCalls',
      message: 'parallelToolCalls false was not sent: Gemini has no switch for it; the model may call several functions in one answer.',
    });
  }
  return into;
}
