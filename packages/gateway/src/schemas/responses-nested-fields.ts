import type { CallWarning } from '@llmrr/core';
import { asksForNothing, CappedWarnings } from './ignored-fields.js';
import { ENCRYPTED_REASONING_INCLUDE, LOGPROBS_INCLUDE } from './responses-include-values.js';
import type { OpenAIResponsesRequest } from './openai-responses.js';

/** The keys of `text` the gateway acts on: `format` (the core `responseFormat`), `verbosity` (`verbosity`). */
const TEXT_KEYS: ReadonlySet<string> = new Set(['format', 'verbosity']);
/** The keys of `reasoning` the gateway acts on (`effort`) or says it cannot honour (`summary`, `generate_summary`). */
const REASONING_KEYS: ReadonlySet<string> = new Set(['effort', 'summary', 'generate_summary']);

/** A `setting_not_sent` warning naming `field` (the client's path). */
export function notSent(field: string, why = 'is not supported by this gateway; it was not sent.'): CallWarning {
  return { code: 'setting_not_sent', field, message: `${field} ${why}` };
}

/** Why an image's `detail` other than `auto` is not sent (chat's `image_url.detail` too). */
export const IMAGE_DETAIL_NOT_SENT = 'was not sent: no engine takes the detail level of an image; the provider default applies.';

/** Why `stream_options.include_obfuscation: true` is not honoured (chat and Responses). */
export const OBFUSCATION_NOT_SENT = 'was not sent: the streams of the gateway carry no obfuscation field.';

/** A warning for each own key of `object` (under `at`) outside `keys` whose value asks for something. */
function otherKeys(object: Record<string, unknown>, keys: ReadonlySet<string>, at: string, out: CappedWarnings): void {
  for (const key in object) {
    if (keys.has(key) || !Object.hasOwn(object, key) || asksForNothing(object[key])) continue;
    if (out.room()) out.push(notSent(`${at}.${key}`));
  }
}

/** The body's fields `responsesNestedWarnings` reads. */
export type ResponsesNestedFields = Partial<Pick<OpenAIResponsesRequest, 'include' | 'reasoning' | 'text' | 'stream_options'>>;

/**
 * `setting_not_sent` warnings for what a `/v1/responses` body asks for below its top level that the gateway does not
 * do (`field`: the client's path), added to `out` (which may already hold the converter's warnings about input
 * items, `input.N.content.K.detail`), in this order:
 * - each `include.N` other than `message.output_text.logprobs` (the core `logprobs`) and `reasoning.encrypted_content`
 *   (the reasoning item's signed blocks): no output of the gateway has what they add;
 * - `reasoning.summary` / `reasoning.generate_summary` (`auto`, `concise`, `detailed`; null asks for nothing): the
 *   gateway neither asks the provider for a summary nor makes one; the answer carries the reasoning text the
 *   provider returns, as it is;
 * - any other key of `reasoning` or `text` whose value asks for something (not null, false, `[]` or `{}`);
 * - `stream_options.include_obfuscation: true`: the gateway's events carry no obfuscation.
 * `text.format.description` and `tools.N.strict` are core's `responseFormat.description` and `tools.N.strict`: an
 * engine that cannot send them warns itself.
 * At most `IGNORED_FIELD_WARNINGS_MAX` warnings, then one `...` counting the others (`CappedWarnings`). Undefined
 * when there is none: a body without those fields costs four reads.
 */
export function responsesNestedWarnings(body: ResponsesNestedFields, out?: CappedWarnings): CallWarning[] | undefined {
  const { include, reasoning, text } = body;
  const obfuscation = body.stream_options?.include_obfuscation === true;
  if (include == null && reasoning == null && text == null && !obfuscation) return out?.done();
  out ??= new CappedWarnings();
  if (include != null) {
    for (let i = 0; i < include.length; i++) {
      const value = include[i];
      if (value !== LOGPROBS_INCLUDE && value !== ENCRYPTED_REASONING_INCLUDE && out.room()) out.push(notSent(`include.${i}`, `(${value}) is not supported by this gateway, which has no output it adds; it was not sent.`));
    }
  }
  if (reasoning != null) {
    for (const key of ['summary', 'generate_summary'] as const) {
      const level = reasoning[key];
      if (level != null && out.room()) {
        out.push(
          notSent(
            `reasoning.${key}`,
            `${level} was not sent: the gateway neither asks the provider for a reasoning summary nor makes one; the answer carries the reasoning text the provider returns, as it is.`,
          ),
        );
      }
    }
    otherKeys(reasoning, REASONING_KEYS, 'reasoning', out);
  }
  if (text != null) otherKeys(text, TEXT_KEYS, 'text', out);
  if (obfuscation && out.room()) out.push(notSent('stream_options.include_obfuscation', OBFUSCATION_NOT_SENT));
  return out.done();
}
