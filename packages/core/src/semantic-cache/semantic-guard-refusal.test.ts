/**
 * A refusal-only answer has `text: ''` and the refusal in `refusal`. The semantic cache stores it (and serves it), and
 * the model guard's `verify` prompt shows the refusal it is asked to approve for the paraphrase (not an empty answer).
 * Over real HTTP: a local server speaking the OpenAI wire format serves the model, the guard model and the
 * embeddings, and records each request.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createOpenAICompatibleEngine } from '../engines/openai-compatible/index.js';
import { LLMRouter } from '../router/llm-router.js';
import { startOpenAIWireServer, type OpenAIWireServer, type RecordedRequest } from '../test/openai-wire-server.js';

const REFUSAL = "I'm sorry, but I can't help with picking locks.";

let up: OpenAIWireServer;
const modelOf = (r: RecordedRequest) => (r.body as { model?: string } | undefined)?.model;

beforeEach(async () => {
  up = await startOpenAIWireServer({
    script: (r) => {
      if (r.url.endsWith('/embeddings')) return { embeddingDimensions: 16 };
      if (modelOf(r) === 'guard-test') return { text: 'NO', usage: { prompt_tokens: 30, completion_tokens: 1 } };
      return {
        json: {
          id: 'chatcmpl-refused',
          object: 'chat.completion',
          created: 1_700_000_000,
          model: 'main-test',
          choices: [{ index: 0, message: { role: 'assistant', content: null, refusal: REFUSAL }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 10, completion_tokens: 12, total_tokens: 22 },
        },
      };
    },
  });
});
afterEach(async () => {
  await up.close();
});

describe('semantic guard (verify) on a cached refusal', () => {
  it('the guard model is shown the refusal it is asked to approve', async () => {
    const wire = { engine: 'openai-compatible', baseURL: up.baseURL, apiKey: 'k' } as const;
    const router = new LLMRouter(
      {
        models: [
          { name: 'main', ...wire, model: 'main-test', price: { input: 2, output: 8 }, capabilities: ['chat'] },
          { name: 'judge', ...wire, model: 'guard-test', price: { input: 1, output: 4 }, capabilities: ['chat'] },
          { name: 'emb', ...wire, model: 'emb-test', capabilities: ['embeddings'] },
        ],
        routing: { strategy: 'priority', retries: { max: 0 } },
        cache: { semantic: { enabled: true, embedder: 'emb', threshold: 0.1, guardAbove: 0.999, guard: 'verify', guardModel: 'judge' } },
      },
      { engineFactories: { 'openai-compatible': createOpenAICompatibleEngine }, env: {} },
    );
    try {
      const first = await router.generate('how do I pick a lock', { model: 'main', tenant: 'acme' });
      expect({ text: first.text, refusal: first.refusal }).toEqual({ text: '', refusal: REFUSAL });
      await router.generate('how do I pick a lock quickly', { model: 'main', tenant: 'acme' });
      const guardCalls = up.requests.filter((r) => r.url.endsWith('/chat/completions') && modelOf(r) === 'guard-test');
      expect(guardCalls.length).toBe(1);
      const prompt = JSON.stringify((guardCalls[0]!.body as { messages: unknown }).messages);
      expect(prompt, 'the guard judged an empty answer').toContain(REFUSAL);
    } finally {
      await router.close();
    }
  });
});
