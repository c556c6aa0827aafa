/**
 * The Gemini models that take `generationConfig.frequencyPenalty` / `presencePenalty` (ids compared without
 * `models/`, lower case). The fields are in the Gemini API's `GenerationConfig`, but most models answer 400
 * INVALID_ARGUMENT "Penalty is not enabled for models/<id>" to a non-zero value:
 * - the Gemini 1.5 `-002` models brought them (Google's cookbook, "What's new in Gemini-1.5-pro-002 and
 *   Gemini-1.5-flash-002"); `gemini-1.5-pro`, `gemini-1.5-flash`, `gemini-1.0-pro` and `gemini-exp-1206` refuse them
 *   (SillyTavern/SillyTavern#3015, vercel/ai#4022);
 * - Gemini 2.0 Flash takes them (a Google team member on the Gemini developer forum, "Doom Loop - Frequency
 *   Penalty - 2.5 Flash", as cited in google-gemini/cookbook#1290; vercel/ai#8943: "only supported for the
 *   gemini-2.0-* models");
 * - Gemini 2.5 (Pro, Flash, Flash-Lite) and later refuse them (vercel/ai#8943, BerriAI/litellm#26108,
 *   google-gemini/cookbook#1290, which found no current model that takes a non-zero value).
 * So they are sent only to the models known to take them, and elsewhere not sent, with a warning; a caller who
 * knows better can still send them through `providerOptions.gemini.generationConfig`.
 */
const TAKES_PENALTIES = /^(?:gemini-2\.0-flash(?:-lite)?(?:-\d{3})?|gemini-1\.5-(?:pro|flash|flash-8b)-002)$/;

/** True when this Gemini model id takes sampling penalties (see above). */
export function geminiTakesPenalties(modelId: string): boolean {
  return TAKES_PENALTIES.test(modelId.trim().toLowerCase().replace(/^models\//, ''));
}
