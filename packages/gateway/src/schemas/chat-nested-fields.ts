import type { CallWarning } from '@llmrr/core';
import { CappedWarnings } from './ignored-fields.js';
import type { OpenAIChatRequest } from './openai-chat.js';
import { notSent, OBFUSCATION_NOT_SENT } from './responses-nested-fields.js';

/**
 * `setting_not_sent` warnings for what a `/v1/chat/completions` body asks for below its top level that the gateway
 * does not send (`field`: the client's path), added to `out` (which may already hold the converter's
 * `messages.N.content.K.image_url.detail` ones): `stream_options.include_obfuscation: true` (the gateway's chunks
 * carry no obfuscation). `tools.N.function.strict` and `response_format.json_schema.description` are core's
 * `tools.N.strict` and `responseFormat.description`: an engine that cannot send them warns itself. At most
 * `IGNORED_FIELD_WARNINGS_MAX`, then one `...` counting the others. Undefined when there is none: a body without
 * the field costs one read.
 */
export function chatNestedWarnings(body: Pick<OpenAIChatRequest, 'stream_options'>, out?: CappedWarnings): CallWarning[] | undefined {
  const obfuscation = body.stream_options?.include_obfuscation === true;
  if (!obfuscation) return out?.done();
  out ??= new CappedWarnings();
  if (out.room()) out.push(notSent('stream_options.include_obfuscation', OBFUSCATION_NOT_SENT));
  return out.done();
}
