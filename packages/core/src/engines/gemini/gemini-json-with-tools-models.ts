/**
 * The Gemini models that refuse JSON mode (`responseMimeType: "application/json"`, `responseSchema`) in a request
 * with function declarations: 400 INVALID_ARGUMENT "Function calling with a response mime type: 'application/json'
 * is unsupported" on Gemini 1.5, 2.0 and 2.5 (symfony/ai#1777 on gemini-2.5-flash, google/adk-python#5735 on
 * gemini-2.5-pro). Gemini 3 takes structured output together with tools (Google's Gemini 3 guide, "Structured
 * outputs with tools"). Google's moving aliases (`gemini-flash-latest`, ...) may name a 2.5 model, so they count as
 * refusing; other ids (Gemini 3 and later, unknown models) are sent as asked. Ids compared without `models/`, lower case.
 */
const REFUSES_JSON_WITH_TOOLS = /^(?:gemini-(?:1|2)[.-]|gemini-(?:pro|flash|flash-lite)-latest$)/;

/** True when this Gemini model id refuses JSON mode beside tools (see above). */
export function geminiRefusesJsonWithTools(modelId: string | undefined): boolean {
  return modelId !== undefined && REFUSES_JSON_WITH_TOOLS.test(modelId.trim().toLowerCase().replace(/^models\//, ''));
}
