import { describe, expect, it } from 'vitest';
import type { GenerateRequest } from '../../spec/index.js';
import { collect } from '../../test/async.test-helpers.js';
import { useGeminiWireServer } from './gemini-wire.test-helpers.js';

// Gemini parallelToolCalls warnings with bodies that providerOptions.gemini shapes (built-in tools, toolConfig).

const wire = useGeminiWireServer();
const engine = () => wire.engine();

describe('gemini engine: parallelToolCalls warnings at the edges', () => {
  it('parallelToolCalls false with a built-in tool from providerOptions.gemini.tools (googleSearch, no functionDeclarations) answers, it does not throw a TypeError', async () => {
    // Grounding with Google Search is a tool without functionDeclarations: `tools: [{ googleSearch: {} }]`, set
    // through providerOptions.gemini (merged over the body). The gateway maps any client's parallel_tool_calls: false.
    const request: GenerateRequest = {
      messages: [{ role: 'user', content: 'hi' }],
      parallelToolCalls: false,
      providerOptions: { gemini: { tools: [{ googleSearch: {} }] } },
    };
    const result = await engine().generate(request);
    expect(result.finishReason).toBe('stop');
    const parts = await collect(engine().stream(request));
    expect(parts.at(-1)?.type).toBe('finish');
  });

  it("parallelToolCalls false with toolChoice 'none' is no warning: no function can be called, so none can be called several times", async () => {
    const request: GenerateRequest = {
      messages: [{ role: 'user', content: 'hi' }],
      tools: [{ name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }],
      toolChoice: 'none',
      parallelToolCalls: false,
    };
    const result = await engine().generate(request);
    expect((wire.server.requests.at(-1)!.body as { toolConfig?: unknown }).toolConfig).toEqual({ functionCallingConfig: { mode: 'NONE' } });
    expect(result.warnings).toBeUndefined();
  });

  it("a toolConfig mode NONE set through providerOptions.gemini is no warning either", async () => {
    const request: GenerateRequest = {
      messages: [{ role: 'user', content: 'hi' }],
      tools: [{ name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }],
      parallelToolCalls: false,
      providerOptions: { gemini: { toolConfig: { functionCallingConfig: { mode: 'NONE' } } } },
    };
    const result = await engine().generate(request);
    expect(result.warnings).toBeUndefined();
    // Without it the same request is warned: the model may call several functions.
    const warned = await engine().generate({ ...request, providerOptions: undefined });
    expect(warned.warnings?.map((w) => w.field)).toEqual(['parallelToolCalls']);
  });

  it('tools of any shape from providerOptions.gemini (null entries, a non-array) never make an answered call throw', async () => {
    for (const tools of [[null, { googleSearch: {} }, { functionDeclarations: 'x' }], { googleSearch: {} }]) {
      const request: GenerateRequest = { messages: [{ role: 'user', content: 'hi' }], parallelToolCalls: false, providerOptions: { gemini: { tools, toolConfig: 'x' } } };
      const result = await engine().generate(request);
      expect(result.finishReason).toBe('stop');
      expect(result.warnings).toBeUndefined();
      const parts = await collect(engine().stream(request));
      expect(parts.at(-1)?.type).toBe('finish');
    }
  });
});
