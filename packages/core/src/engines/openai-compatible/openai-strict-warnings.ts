import type { GenerateRequest } from '../../spec/messages.js';
import type { CallWarning } from '../../spec/warnings.js';
import { EMPTY_PARAMETERS, openAIStrictSchemaProblem } from './openai-strict-schema.js';
import type { ResolvedEndpoint } from './resolve-endpoint.js';

const REFUSED = "OpenAI's strict mode refuses it with a 400";

/**
 * `setting_not_sent` for each `strict: true` the `body` sent does not carry, pushed onto `into` (created on the first
 * one); returns it: a tool's (`tools.N.strict`: the endpoint does not take `function.strict`, `endpoint.strictTools`,
 * or its schema does not fit strict mode, `openAIStrictSchemaProblem`) and a JSON schema format's
 * (`responseFormat.strict`: its schema does not fit). Read from the body, so a strict the caller's providerOptions
 * put back is no warning.
 */
export function openAIStrictWarnings(
  request: GenerateRequest,
  endpoint: ResolvedEndpoint,
  body: Readonly<Record<string, unknown>>,
  into: CallWarning[] | undefined,
): CallWarning[] | undefined {
  const sentTools = Array.isArray(body.tools) ? (body.tools as Array<{ function?: { strict?: unknown } } | undefined>) : [];
  request.tools?.forEach((tool, k) => {
    if (tool.strict !== true || sentTools[k]?.function?.strict === true) return;
    const problem = endpoint.strictTools ? openAIStrictSchemaProblem(tool.parameters ?? EMPTY_PARAMETERS) : undefined;
    const why = !endpoint.strictTools
      ? endpoint.strictToolsByOption
        ? 'strict is off for this deployment (options.strictTools)'
        : `${endpoint.preset.label} is not known to take function.strict (set options.strictTools on the model to send it)`
      : problem !== undefined
        ? `${problem} (${REFUSED})`
        : 'the body carries no strict';
    (into ??= []).push({ code: 'setting_not_sent', field: `tools.${k}.strict`, message: `tools.${k}.strict was not sent: ${why}; the tool went without strict.` });
  });
  const format = request.responseFormat;
  if (format?.type === 'json_schema' && format.strict === true) {
    const sent = (body.response_format as { json_schema?: { strict?: unknown } } | undefined)?.json_schema?.strict;
    if (sent !== true) {
      const problem = openAIStrictSchemaProblem(format.schema);
      const why = problem !== undefined ? `${problem} (${REFUSED})` : 'the body carries no strict';
      (into ??= []).push({ code: 'setting_not_sent', field: 'responseFormat.strict', message: `responseFormat.strict was not sent: ${why}; the format went without strict.` });
    }
  }
  return into;
}
