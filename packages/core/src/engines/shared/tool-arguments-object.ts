import type { CallWarning } from '../../spec/warnings.js';

/**
 * A tool call's `arguments` (text, as OpenAI's API takes them: any string) as the JSON object that Anthropic's
 * `tool_use.input` and Gemini's `functionCall.args` must be. Empty text is `{}`. Text that is not a JSON object
 * (arguments cut short by `max_tokens`, a small model's malformed call, `[1,2]`) is kept as `{ "_raw": text }`,
 * as the gateway's answers keep such arguments, so a history holding such a call still goes (the provider would
 * refuse it on every later turn), with a `setting_changed` warning naming `field` pushed onto `warnings` (if given).
 */
export function toolArgumentsObject(text: string, field: string, provider: string, warnings: { push(warning: CallWarning): unknown } | undefined): Record<string, unknown> {
  if (text.trim() === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // Not JSON: kept below.
  }
  warnings?.push({
    code: 'setting_changed',
    field,
    message: `${field} is not a JSON object: it was sent as {"_raw": <the text>} (${provider} takes a tool call's arguments only as an object).`,
  });
  return { _raw: text };
}
