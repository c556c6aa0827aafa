import { describe, expect, it } from 'vitest';
import { validateBody } from '../http/validate.js';
import { AnthropicMessagesRequestSchema } from '../schemas/anthropic-messages.js';
import { IGNORED_FIELD_WARNINGS_MAX, ignoredFieldsOf } from '../schemas/ignored-fields.js';
import { convertMessagesRequest } from './to-generate-request.js';

// What only an Anthropic deployment receives of a /v1/messages body (verbatim under providerOptions.anthropic):
// kept on the converted request as warnings that hold when another provider answers (`ignoredFieldsOf(request,
// provider)`, as calls/model-call.ts asks with the provider that answered), never for an Anthropic answer, and not
// without a provider. output-config-other-provider.sdk.test.ts sees them in a served gateway's answer.

const FORMAT = { type: 'json_schema', schema: { type: 'object', properties: { city: { type: 'string' } } } };
const convert = (extra: Record<string, unknown>) =>
  convertMessagesRequest(validateBody(AnthropicMessagesRequestSchema, { model: 'claude', max_tokens: 4096, messages: [{ role: 'user', content: 'hi' }], ...extra })).request;
const fields = (extra: Record<string, unknown>, provider?: string) => ignoredFieldsOf(convert(extra), provider)?.map((w) => w.field);

describe('Anthropic-only fields of /v1/messages', () => {
  it('output_config.format and an effort without adaptive thinking: said when another provider answers', () => {
    const extra = { output_config: { format: FORMAT, effort: 'low' }, service_tier: 'standard_only' };
    // (In the schema's key order: effort, then format.)
    expect(fields(extra, 'openai-compatible')).toEqual(['service_tier', 'output_config.effort', 'output_config.format']);
    expect(fields(extra, 'anthropic')).toEqual(['service_tier']);
    expect(fields(extra)).toEqual(['service_tier']);
    const w = ignoredFieldsOf(convert(extra), 'gemini')!.find((x) => x.field === 'output_config.format');
    expect(w).toEqual({ code: 'setting_not_sent', field: 'output_config.format', message: 'output_config.format was not sent: only Anthropic deployments take it, and another provider answered.' });
  });

  it('an effort that became the core effort (adaptive thinking) is not said; null values ask for nothing', () => {
    expect(fields({ thinking: { type: 'adaptive' }, output_config: { effort: 'high' } }, 'openai-compatible')).toBeUndefined();
    expect(fields({ output_config: { effort: null, format: null } }, 'openai-compatible')).toBeUndefined();
  });

  it('thinking.display omitted is said; summarized, and the other thinking forms, ask nothing of other providers', () => {
    expect(fields({ thinking: { type: 'enabled', budget_tokens: 1024, display: 'omitted' } }, 'gemini')).toEqual(['thinking.display']);
    expect(fields({ thinking: { type: 'adaptive', display: 'summarized' } }, 'gemini')).toBeUndefined();
    expect(fields({ thinking: { type: 'between_tools' } }, 'gemini')).toBeUndefined();
  });

  it(`bounded: with the top-level ones, at most ${IGNORED_FIELD_WARNINGS_MAX} and one \`...\` counting the others`, () => {
    const outputConfig = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, 'x']));
    const top = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`extra${i}`, 1]));
    const warnings = ignoredFieldsOf(convert({ ...top, output_config: outputConfig }), 'gemini')!;
    expect(warnings).toHaveLength(IGNORED_FIELD_WARNINGS_MAX + 1);
    expect(warnings.slice(0, 11).map((w) => w.field)).toEqual([...Object.keys(top), 'output_config.k0']);
    expect(warnings.at(-1)).toMatchObject({ field: '...', message: `${10 + 5000 - IGNORED_FIELD_WARNINGS_MAX} more fields are not supported by this gateway; they were not sent.` });
    // An Anthropic answer: the top-level ones alone.
    expect(ignoredFieldsOf(convert({ ...top, output_config: outputConfig }), 'anthropic')).toHaveLength(10);
  });
});
