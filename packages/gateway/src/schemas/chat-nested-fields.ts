import type { CallWarning } from '@llmrr/core';
import { CappedWarnings } from './ignored-fields.js';
import type { OpenAIChatRequest } from './openai-chat.js';
import { FORMAT_DESCRIPTION_NOT_SENT, notSent, OBFUSCATION_NOT_SENT, TOOL_STRICT_NOT_SENT } from './responses-nested-fields.js';

/**
 * `setting_not_sent` warnings for what a `/v1/chat/completions` body asks for below its top level that the gateway
 * does not send (`field`: the client's path), added to `out` (which may already hold the converter's
 * `messages.N.content.K.image_url.detail` ones), in this order:
 * - `response_format.json_schema.description` (a non-empty string): the core response format has none;
 * - `tools.N.function.strict: true`: the core tool has no such flag, and the gateway enforces no schema;
 * - `stream_options.include_obfuscation: true`: the gateway's chunks carry no obfuscation.
 * At most `IGNORED_FIELD_WARNINGS_MAX`, then one `...` counting the others. Undefined when there is none: a body
 * without those fields costs three reads.
 */
export function chatNestedWarnings(body: Pick<OpenAIChatRequest, 'response_format' | 'tools' | 'stream_options'>, out?: CappedWarnings): CallWarning[] | undefined {
  const { response_format: format, tools } = body;
  const obfuscation = (body.stream_options as { include_obfuscation?: unknown } | null | undefined)?.include_obfuscation === true;
  if (format == null && tools == null && !obfuscation) return out?.done();
  out ??= new CappedWarnings();
  if (format?.type === 'json_schema') {
    const description = format.json_schema.description;
    if (typeof description === 'string' && description !== '' && out.room()) out.push(notSent('response_format.json_schema.description', FORMAT_DESCRIPTION_NOT_SENT));
  }
  if (tools != null) {
    for (let i = 0; i < tools.length; i++) {
      if (tools[i]!.function.strict === true && out.room()) out.push(notSent(`tools.${i}.function.strict`, TOOL_STRICT_NOT_SENT));
    }
  }
  if (obfuscation && out.room()) out.push(notSent('stream_options.include_obfuscation', OBFUSCATION_NOT_SENT));
  return out.done();
}
