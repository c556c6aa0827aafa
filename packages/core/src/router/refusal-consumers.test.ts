import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelConfigSchema } from '../config/schema.js';
import { defaultEngineContext } from '../engines/types.js';
import { OpenAICompatibleEngine } from '../engines/openai-compatible/index.js';
import { toGenAiOutputMessages } from '../telemetry/gen-ai-content.js';
import { collect } from '../test/async.test-helpers.js';
import { startOpenAIWireServer, type OpenAIWireServer } from '../test/openai-wire-server.js';
import { LLMRouter } from './llm-router.js';

// A refusal lives in `GenerateResult.refusal` and `text` is '' when the model only refused: every consumer of the
// answer keeps it (usage estimated from it as the stream does, quick(), the GenAI output messages).

const REFUSAL = "I'm sorry, but I can't help with that request.";

/** A refusal-only answer, as OpenAI sends one; `usage` as given (a server that reports zeros). */
function refusedJson(usage: Record<string, number>) {
  return {
    json: {
      id: 'chatcmpl-refused',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'gpt-test',
      choices: [{ index: 0, message: { role: 'assistant', content: null, refusal: REFUSAL }, finish_reason: 'stop' }],
      usage,
    },
  };
}

function refusedSSE(usage: Record<string, number>): string {
  const chunk = (body: Record<string, unknown>) => `data: ${JSON.stringify({ id: 'chatcmpl-refused', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-test', ...body })}\n\n`;
  return (
    chunk({ choices: [{ index: 0, delta: { role: 'assistant', content: null, refusal: '' }, finish_reason: null }] }) +
    chunk({ choices: [{ index: 0, delta: { refusal: REFUSAL }, finish_reason: null }] }) +
    chunk({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }) +
    chunk({ choices: [], usage }) +
    'data: [DONE]\n\n'
  );
}

const ZERO = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };

let server: OpenAIWireServer;
let router: LLMRouter;

beforeAll(async () => {
  server = await startOpenAIWireServer({ script: refusedJson(ZERO) });
  router = new LLMRouter(
    {
      models: [
        {
          name: 'gpt',
          engine: 'openai-compatible',
          baseURL: server.baseURL,
          model: 'gpt-test',
          apiKey: 'k',
          price: { input: 1, output: 10 },
          capabilities: ['chat', 'streaming'],
        },
      ],
      routing: { strategy: 'priority', retries: { max: 0 } },
    },
    { env: {} },
  );
});
afterAll(async () => {
  await router?.close();
  await server?.close();
});

describe('a refusal-only answer', () => {
  it('generate: a server reporting zero usage still has the refusal\'s output tokens estimated, as the stream does', async () => {
    server.setScript({ rawSSE: refusedSSE(ZERO) });
    const stream = router.stream('Pick the lock for me.');
    await collect(stream);
    const streamed = await stream.result;
    expect(streamed.refusal).toBe(REFUSAL);
    // The stream path estimates the refusal's tokens (StreamAccumulator passes text + refusal).
    expect(streamed.usage.outputTokens).toBeGreaterThan(0);

    server.setScript(refusedJson(ZERO));
    const result = await router.generate('Pick the lock for me.');
    expect(result.refusal).toBe(REFUSAL);
    // llm-router.ts build(): completeUsage(answer.usage, answer.text, ...) leaves the refusal out, and with
    // text '' the zero usage is kept as is: the refused answer is billed nothing.
    expect(result.usage.outputTokens, 'the refused answer generated tokens').toBe(streamed.usage.outputTokens);
    expect(result.cost.totalUsd).toBeGreaterThan(0);
  });

  it('router.quick() returns the refusal, not an empty string', async () => {
    server.setScript(refusedJson({ prompt_tokens: 9, completion_tokens: 12, total_tokens: 21 }));
    const text = await router.quick('Pick the lock for me.');
    expect(text).toContain(REFUSAL);
  });

  it('telemetry: gen_ai.output.messages keeps the refusal', async () => {
    server.setScript(refusedJson({ prompt_tokens: 9, completion_tokens: 12, total_tokens: 21 }));
    const engine = new OpenAICompatibleEngine(
      ModelConfigSchema.parse({ name: 'gpt', engine: 'openai-compatible', baseURL: server.baseURL, model: 'gpt-test', apiKey: 'k' }),
      defaultEngineContext({ env: {} }),
    );
    const answer = await engine.generate({ messages: [{ role: 'user', content: 'Pick the lock for me.' }] });
    expect(answer.refusal).toBe(REFUSAL);
    const messages = toGenAiOutputMessages(answer);
    expect(JSON.stringify(messages)).toContain(REFUSAL);
  });
});
