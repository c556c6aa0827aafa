import type { CallWarning } from '@llmrr/core';
import { asksForNothing } from './ignored-fields.js';
import { LOGPROBS_INCLUDE } from './responses-include-values.js';
import type { OpenAIResponsesRequest } from './openai-responses.js';

/** The keys of `text` the gateway acts on: `format` (the core `responseFormat`), `verbosity` (`verbosity`). */
const TEXT_KEYS: ReadonlySet<string> = new Set(['format', 'verbosity']);
/** The keys of `reasoning` the gateway acts on (`effort`) or says it cannot honour (`summary`, `generate_summary`). */
const REASONING_KEYS: ReadonlySet<string> = new Set(['effort', 'summary', 'generate_summary']);

function notSent(field: string, why = 'is not supported by this gateway'): CallWarning {
  return { code: 'setting_not_sent', field, message: `${field} ${why}; it was not sent.` };
}

/** A warning for each own key of `object` (under `at`) outside `keys` whose value asks for something. */
function otherKeys(object: Record<string, unknown>, keys: ReadonlySet<string>, at: string, out: CallWarning[]): void {
  for (const key in object) {
    if (keys.has(key) || !Object.hasOwn(object, key) || asksForNothing(object[key])) continue;
    out.push(notSent(`${at}.${key}`));
  }
}

/**
 * `setting_not_sent` warnings for what a `/v1/responses` body asks for below its top level that the gateway does not
 * do (`field`: the client's path), in this order:
 * - each `include.N` other than `message.output_text.logprobs` (the core `logprobs`): no output of the gateway has
 *   what they add;
 * - `reasoning.summary` / `reasoning.generate_summary` (`auto`, `concise`, `detailed`; null asks for nothing): the
 *   answer carries the model's reasoning whole, as its summary and as its content, never a summary made at the
 *   asked level;
 * - any other key of `reasoning` or `text` whose value asks for something (not null, false, `[]` or `{}`).
 * Undefined (nothing allocated) when there is none: a body without `include`, `reasoning` and `text` costs three reads.
 */
export function responsesNestedWarnings(body: Pick<OpenAIResponsesRequest, 'include' | 'reasoning' | 'text'>): CallWarning[] | undefined {
  const { include, reasoning, text } = body;
  if (include == null && reasoning == null && text == null) return undefined;
  const out: CallWarning[] = [];
  include?.forEach((value, i) => {
    if (value !== LOGPROBS_INCLUDE) out.push(notSent(`include.${i}`, `(${value}) is not supported by this gateway, which has no output it adds`));
  });
  if (reasoning != null) {
    for (const key of ['summary', 'generate_summary'] as const) {
      const level = reasoning[key];
      if (level != null) {
        out.push({
          code: 'setting_not_sent',
          field: `reasoning.${key}`,
          message: `reasoning.${key} ${level} was not sent: the answer carries the model's reasoning whole (as summary and content), not a summary.`,
        });
      }
    }
    otherKeys(reasoning, REASONING_KEYS, 'reasoning', out);
  }
  if (text != null) otherKeys(text, TEXT_KEYS, 'text', out);
  return out.length > 0 ? out : undefined;
}
