import { describe, expect, it } from 'vitest';
import { validateBody } from '../http/validate.js';
import { AnthropicMessagesRequestSchema } from '../schemas/anthropic-messages.js';
import { ignoredFieldsOf } from '../schemas/ignored-fields.js';
import { convertMessagesRequest } from './to-generate-request.js';

// What only an Anthropic deployment receives of a /v1/messages body (verbatim under providerOptions.anthropic):
// kept on the converted request as warnings that hold when another provider answers (`ignoredFieldsOf(request,
// provider)`), never for an Anthropic answer, and not without a provider (what the call shows today).

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
});
