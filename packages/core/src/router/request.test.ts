import { describe, expect, it } from 'vitest';
import { normalizeRequest } from './request.js';
import type { RequestParams } from './types.js';

describe('normalizeRequest', () => {
  it('every request field given next to the routing options reaches the request, cacheControl and promptCacheKey too', () => {
    const options: Required<RequestParams> = {
      maxTokens: 5,
      temperature: 0.1,
      topP: 0.5,
      topK: 40,
      stop: ['x'],
      seed: 3,
      frequencyPenalty: 0.5,
      presencePenalty: -0.5,
      logitBias: { '50256': -100 },
      continueFinalMessage: true,
      tools: [{ name: 't', parameters: { type: 'object' } }],
      toolChoice: 'auto',
      parallelToolCalls: false,
      responseFormat: { type: 'json_object' },
      verbosity: 'low',
      logprobs: { topLogprobs: 3 },
      user: 'u',
      reasoning: { effort: 'low' },
      cacheControl: { type: 'ephemeral', ttl: '1h' },
      promptCacheKey: 'conv-1',
      providerOptions: { openai: { logprobs: true } },
    };
    const request = normalizeRequest('hi', { ...options, model: 'm', strategy: 'priority', requestId: 'r' });
    expect(request).toEqual({ messages: [{ role: 'user', content: 'hi' }], ...options });
  });

  it('options override the request object\'s own fields, and the caller\'s object is not changed', () => {
    const own = { messages: [{ role: 'user' as const, content: 'hi' }], promptCacheKey: 'own', temperature: 1 };
    const request = normalizeRequest(own, { promptCacheKey: 'option' });
    expect(request).toEqual({ ...own, promptCacheKey: 'option' });
    expect(own.promptCacheKey).toBe('own');
    // No option fields: the very same object.
    expect(normalizeRequest(own, { model: 'm' })).toBe(own);
  });

  it('topK, verbosity and logprobs out of range are invalid_request errors naming the field', () => {
    const base = { messages: [{ role: 'user' as const, content: 'hi' }] };
    const cases: [Record<string, unknown>, string][] = [
      [{ topK: 0 }, 'topK'],
      [{ topK: 2.5 }, 'topK'],
      [{ topK: '5' }, 'topK'],
      [{ verbosity: 'loud' }, 'verbosity'],
      [{ logprobs: true }, 'logprobs'],
      [{ logprobs: null }, 'logprobs'],
      [{ logprobs: { topLogprobs: 21 } }, 'logprobs.topLogprobs'],
      [{ logprobs: { topLogprobs: -1 } }, 'logprobs.topLogprobs'],
      [{ logprobs: { topLogprobs: 1.5 } }, 'logprobs.topLogprobs'],
    ];
    for (const [extra, param] of cases) {
      expect(() => normalizeRequest({ ...base, ...extra } as never, undefined), JSON.stringify(extra)).toThrow(expect.objectContaining({ code: 'invalid_request', param }));
    }
    expect(normalizeRequest({ ...base, topK: 1, verbosity: 'high', logprobs: {} }, undefined)).toMatchObject({ topK: 1, verbosity: 'high', logprobs: {} });
    expect(normalizeRequest({ ...base, logprobs: { topLogprobs: 20 } }, undefined)).toMatchObject({ logprobs: { topLogprobs: 20 } });
  });

  it('a non-boolean tools[].strict and a non-string json_schema description are invalid_request errors naming the field', () => {
    const base = { messages: [{ role: 'user' as const, content: 'hi' }] };
    const tool = { name: 't', parameters: { type: 'object' } };
    expect(() => normalizeRequest({ ...base, tools: [tool, { ...tool, strict: 'yes' }] } as never, undefined)).toThrow(
      expect.objectContaining({ code: 'invalid_request', param: 'tools.1.strict' }),
    );
    expect(() => normalizeRequest({ ...base, responseFormat: { type: 'json_schema', schema: {}, description: 5 } } as never, undefined)).toThrow(
      expect.objectContaining({ code: 'invalid_request', param: 'responseFormat.description' }),
    );
    const ok = { ...base, tools: [{ ...tool, strict: true }], responseFormat: { type: 'json_schema' as const, schema: {}, description: 'd' } };
    expect(normalizeRequest(ok, undefined)).toBe(ok);
  });

  it('penalties outside -2..2 and a non-boolean parallelToolCalls are invalid_request errors naming the field', () => {
    for (const [field, value] of [['frequencyPenalty', 2.5], ['presencePenalty', -3], ['frequencyPenalty', Number.NaN], ['presencePenalty', '1']] as const) {
      expect(() => normalizeRequest({ messages: [{ role: 'user', content: 'hi' }], [field]: value } as never, undefined)).toThrow(
        expect.objectContaining({ code: 'invalid_request', param: field }),
      );
    }
    expect(() => normalizeRequest({ messages: [{ role: 'user', content: 'hi' }], parallelToolCalls: 'no' } as never, undefined)).toThrow(
      expect.objectContaining({ code: 'invalid_request', param: 'parallelToolCalls' }),
    );
    expect(normalizeRequest({ messages: [{ role: 'user', content: 'hi' }], frequencyPenalty: -2, presencePenalty: 2, parallelToolCalls: false }, undefined)).toMatchObject({
      frequencyPenalty: -2,
      presencePenalty: 2,
    });
  });
});
