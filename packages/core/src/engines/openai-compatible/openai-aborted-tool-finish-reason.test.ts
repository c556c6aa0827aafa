import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelConfigSchema } from '../../config/schema.js';
import { LLMRouter } from '../../router/llm-router.js';
import type { GenerateRequest, StreamPart } from '../../spec/index.js';
import { collect } from '../../test/async.test-helpers.js';
import { startOpenAIWireServer, type OpenAIWireServer } from '../../test/openai-wire-server.js';
import { defaultEngineContext } from '../types.js';
import { OpenAICompatibleEngine } from './index.js';

// vLLM and SGLang end a request they aborted (engine-side abort, the scheduler dropping it) with
// `finish_reason: "abort"`, at whatever point the answer had reached: a tool call's arguments may be cut mid-JSON.
// Only `stop` (OpenAI's forced tool calls) or no finish_reason at all turns an answer with tool calls into
// `tool-calls`; a reason the engine does not know stays `other`, answered and streamed, so the cut call is not
// reported as a complete tool-call turn and the router's exact cache (which stores `tool-calls`, not `other`)
// does not serve it again.

const CUT_ARGS = '{"city":"Pa';

const abortedJson = {
  json: {
    id: 'chatcmpl-aborted',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'served-model',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'weather', arguments: CUT_ARGS } }] },
        finish_reason: 'abort',
      },
    ],
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
  },
};

function abortedSSE(): string {
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
    `data: ${JSON.stringify({ id: 'chatcmpl-aborted', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'served-model', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  return (
    chunk({ role: 'assistant', content: null }) +
    chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'weather', arguments: '' } }] }) +
    chunk({ tool_calls: [{ index: 0, function: { arguments: CUT_ARGS } }] }) +
    chunk({}, 'abort') +
    'data: [DONE]\n\n'
  );
}

let server: OpenAIWireServer;
beforeAll(async () => {
  server = await startOpenAIWireServer({ script: abortedJson });
});
afterAll(() => server.close());

const request: GenerateRequest = {
  messages: [{ role: 'user', content: 'Weather in Paris?' }],
  tools: [{ name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }],
};

function engine(): OpenAICompatibleEngine {
  return new OpenAICompatibleEngine(ModelConfigSchema.parse({ name: 'vllm', model: 'served-model', preset: 'vllm', baseURL: server.baseURL }), defaultEngineContext({ env: {} }));
}

describe('openai-compatible engine: an aborted answer (finish_reason "abort") with a cut tool call', () => {
  it('generate: is not reported as a complete tool-call turn', async () => {
    server.setScript(abortedJson);
    const result = await engine().generate(request);
    expect(result.toolCalls[0]!.arguments).toBe(CUT_ARGS);
    expect(result.finishReason).not.toBe('tool-calls');
  });

  it('stream: the finish part does not say tool-calls', async () => {
    server.setScript({ rawSSE: abortedSSE() });
    const parts = await collect(engine().stream(request));
    const finish = parts.at(-1) as Extract<StreamPart, { type: 'finish' }>;
    expect(finish.type).toBe('finish');
    expect(finish.finishReason).not.toBe('tool-calls');
  });

  it('router: the exact cache does not store the cut answer and serve it again', async () => {
    server.setScript(abortedJson);
    const router = new LLMRouter(
      {
        models: [{ name: 'vllm', engine: 'openai-compatible', preset: 'vllm', baseURL: server.baseURL, model: 'served-model', capabilities: ['chat', 'tools'] }],
        routing: { strategy: 'priority', retries: { max: 0 } },
        cache: { exact: { enabled: true } },
      },
      { env: {} },
    );
    try {
      const before = server.requests.length;
      await router.generate({ ...request, messages: [{ role: 'user', content: 'Weather in Paris, please?' }] }, { model: 'vllm' });
      const second = await router.generate({ ...request, messages: [{ role: 'user', content: 'Weather in Paris, please?' }] }, { model: 'vllm' });
      expect(second.cached, 'the cut answer was served from the cache').toBe(false);
      expect(server.requests.length - before).toBe(2);
    } finally {
      await router.close();
    }
  });
});
