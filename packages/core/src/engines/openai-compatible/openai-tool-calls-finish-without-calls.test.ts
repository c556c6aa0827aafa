import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelConfigSchema } from '../../config/schema.js';
import type { GenerateRequest, StreamPart } from '../../spec/index.js';
import { collect } from '../../test/async.test-helpers.js';
import { startOpenAIWireServer, type OpenAIWireServer } from '../../test/openai-wire-server.js';
import { defaultEngineContext } from '../types.js';
import { OpenAICompatibleEngine } from './index.js';
import { finishOfAnswer } from './map-openai-finish-reason.js';

// vLLM and Ollama end an answer with `finish_reason: "tool_calls"` when the model wrote a tool call their tool parser
// could not parse: the call stays as text in `content` and `tool_calls` is empty or absent. The answer holds no call,
// so it finishes `stop` (as the Anthropic engine reports `tool_use` without a tool_use block, and the Gemini engine
// `STOP` without a function call), answered and streamed: a consumer that trusts `tool-calls` (an agent loop that
// answers every call; the gateway's `stop_reason: "tool_use"`, `finish_reason: "tool_calls"`) would find none. A tool
// call without a function name (a parser that failed part-way) cannot be answered: it is left out, streamed and not.

const TEXT = '<tool_call>{"name": "weather", "arguments": {"city": "Oslo"}</tool_call>';

let server: OpenAIWireServer;
beforeAll(async () => {
  server = await startOpenAIWireServer({ script: { text: TEXT, finishReason: 'tool_calls' } });
});
afterAll(() => server.close());

const request: GenerateRequest = {
  messages: [{ role: 'user', content: 'Weather in Oslo?' }],
  tools: [{ name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }],
};

function engine(): OpenAICompatibleEngine {
  return new OpenAICompatibleEngine(ModelConfigSchema.parse({ name: 'vllm', model: 'served-model', preset: 'vllm', baseURL: server.baseURL }), defaultEngineContext({ env: {} }));
}

describe('openai-compatible engine: finish_reason "tool_calls" without a tool call', () => {
  it('generate: the text answer finishes with stop', async () => {
    const result = await engine().generate(request);
    expect(result.text).toBe(TEXT);
    expect(result.toolCalls).toEqual([]);
    expect(result.finishReason).toBe('stop');
  });

  it('stream: no tool-call part, and the finish part says stop', async () => {
    const parts = await collect(engine().stream(request));
    expect(parts.filter((p) => p.type === 'tool-call' || p.type === 'tool-call-delta')).toEqual([]);
    expect(parts.flatMap((p) => (p.type === 'text-delta' ? [p.delta] : [])).join('')).toBe(TEXT);
    const finish = parts.at(-1) as Extract<StreamPart, { type: 'finish' }>;
    expect(finish.type).toBe('finish');
    expect(finish.finishReason).toBe('stop');
  });

  const sse = (delta: unknown, finish: string | null = null) =>
    `data: ${JSON.stringify({ id: 'chatcmpl-n1', object: 'chat.completion.chunk', created: 1, model: 'served-model', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  const PARTIAL = '<tool_call>{"name": "weather", "arguments": {"city": "Os';

  it('stream: a tool call fragment that never gets a function name sends no tool part, and the finish says stop', async () => {
    server.setScript({ rawSSE: sse({ role: 'assistant', content: PARTIAL }) + sse({ tool_calls: [{ index: 0, function: { arguments: '{"city": "Os' } }] }) + sse({}, 'tool_calls') + 'data: [DONE]\n\n' });
    try {
      const parts = await collect(engine().stream(request));
      expect(parts.filter((p) => p.type === 'tool-call' || p.type === 'tool-call-delta')).toEqual([]);
      expect(parts.flatMap((p) => (p.type === 'text-delta' ? [p.delta] : [])).join('')).toBe(PARTIAL);
      expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop' });
    } finally {
      server.setScript({ text: TEXT, finishReason: 'tool_calls' });
    }
  });

  it('stream: a nameless fragment beside a named call is left out; the named call is answered with tool-calls', async () => {
    const named = { index: 1, id: 'call_w', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } };
    server.setScript({ rawSSE: sse({ tool_calls: [{ index: 0, function: { arguments: '{"ci' } }] }) + sse({ tool_calls: [named] }) + sse({}, 'tool_calls') + 'data: [DONE]\n\n' });
    try {
      const parts = await collect(engine().stream(request));
      expect(parts.filter((p) => p.type === 'tool-call-delta')).toEqual([{ type: 'tool-call-delta', index: 1, id: 'call_w', name: 'weather', argumentsDelta: '{"city":"Oslo"}' }]);
      expect(parts.filter((p) => p.type === 'tool-call')).toEqual([{ type: 'tool-call', index: 1, toolCall: { id: 'call_w', name: 'weather', arguments: '{"city":"Oslo"}' } }]);
      expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'tool-calls' });
    } finally {
      server.setScript({ text: TEXT, finishReason: 'tool_calls' });
    }
  });

  it('stream: a call whose name comes after its first arguments opens with the name and those arguments', async () => {
    server.setScript({
      rawSSE:
        sse({ tool_calls: [{ index: 0, id: 'call_l', function: { arguments: '{"ci' } }] }) +
        sse({ tool_calls: [{ index: 0, function: { name: 'weather', arguments: 'ty":' } }] }) +
        sse({ tool_calls: [{ index: 0, function: { arguments: '"Oslo"}' } }] }) +
        sse({}, 'tool_calls') +
        'data: [DONE]\n\n',
    });
    try {
      const parts = await collect(engine().stream(request));
      expect(parts.filter((p) => p.type === 'tool-call-delta')).toEqual([
        { type: 'tool-call-delta', index: 0, id: 'call_l', name: 'weather', argumentsDelta: '{"city":' },
        { type: 'tool-call-delta', index: 0, argumentsDelta: '"Oslo"}' },
      ]);
      expect(parts.filter((p) => p.type === 'tool-call')).toEqual([{ type: 'tool-call', index: 0, toolCall: { id: 'call_l', name: 'weather', arguments: '{"city":"Oslo"}' } }]);
      expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'tool-calls' });
    } finally {
      server.setScript({ text: TEXT, finishReason: 'tool_calls' });
    }
  });

  it('generate: a tool call without a function name is left out of the answer, which finishes stop, as streamed', async () => {
    const usage = { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 };
    const message = { role: 'assistant', content: PARTIAL, tool_calls: [{ id: 'call_x', type: 'function', function: { name: '', arguments: '{"city": "Os' } }] };
    server.setScript({ json: { id: 'chatcmpl-n2', object: 'chat.completion', created: 1, model: 'served-model', choices: [{ index: 0, message, finish_reason: 'tool_calls' }], usage } });
    try {
      const result = await engine().generate(request);
      expect(result.text).toBe(PARTIAL);
      expect(result.toolCalls).toEqual([]);
      expect(result.finishReason).toBe('stop');
    } finally {
      server.setScript({ text: TEXT, finishReason: 'tool_calls' });
    }
  });

  it('an answer with calls keeps tool-calls, and an answer without a reason stays other', () => {
    expect(finishOfAnswer('tool-calls', true)).toBe('tool-calls');
    expect(finishOfAnswer('stop', true)).toBe('tool-calls');
    expect(finishOfAnswer(undefined, true)).toBe('tool-calls');
    expect(finishOfAnswer('length', true)).toBe('length');
    expect(finishOfAnswer('tool-calls', false)).toBe('stop');
    expect(finishOfAnswer('length', false)).toBe('length');
    expect(finishOfAnswer(undefined, false)).toBe('other');
  });
});
