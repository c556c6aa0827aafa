import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelConfigSchema } from '../../config/schema.js';
import type { GenerateRequest, StreamPart } from '../../spec/index.js';
import { collect } from '../../test/async.test-helpers.js';
import { startOpenAIWireServer, type OpenAIWireServer } from '../../test/openai-wire-server.js';
import { defaultEngineContext } from '../types.js';
import { OpenAICompatibleEngine } from './index.js';

// OpenAI answers a call it was forced to make (`tool_choice: {type:"function",...}`, and `"required"`) with
// `finish_reason: "stop"` beside the `tool_calls` (its function-calling guide; vLLM mirrors it for a named
// tool_choice). The answer did stop to call a tool: as the Anthropic engine reports `tool_use` and the Gemini engine
// `STOP` with function calls, the OpenAI-compatible engine reports an answer with tool calls finished `stop` (or
// with no known reason) as `tool-calls`, answered and streamed, so a router consumer (the gateway's /v1/messages
// renders it as `stop_reason: "tool_use"`) sees the same finish whichever provider served it.


let server: OpenAIWireServer;
beforeAll(async () => {
  server = await startOpenAIWireServer({ script: { text: '', toolCalls: [{ id: 'call_1', name: 'weather', arguments: '{"city":"Paris"}' }], finishReason: 'stop' } });
});
afterAll(() => server.close());

const forced: GenerateRequest = {
  messages: [{ role: 'user', content: 'Weather in Paris?' }],
  tools: [{ name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }],
  toolChoice: { name: 'weather' },
};

function engine(): OpenAICompatibleEngine {
  return new OpenAICompatibleEngine(ModelConfigSchema.parse({ name: 'gpt', model: 'gpt-4o', preset: 'openai', baseURL: server.baseURL, apiKey: 'k' }), defaultEngineContext({ env: {} }));
}

describe('openai-compatible engine: a forced tool call answered with finish_reason "stop"', () => {
  it('generate: the answer with tool calls finishes with tool-calls', async () => {
    const result = await engine().generate(forced);
    expect((server.requests.at(-1)!.body as { tool_choice: unknown }).tool_choice).toEqual({ type: 'function', function: { name: 'weather' } });
    expect(result.toolCalls).toHaveLength(1);
    expect(result.finishReason).toBe('tool-calls');
  });

  it('stream: the finish part of a stream with tool calls says tool-calls', async () => {
    const parts = await collect(engine().stream(forced));
    expect(parts.some((p) => p.type === 'tool-call')).toBe(true);
    const finish = parts.at(-1) as Extract<StreamPart, { type: 'finish' }>;
    expect(finish.type).toBe('finish');
    expect(finish.finishReason).toBe('tool-calls');
  });
});
