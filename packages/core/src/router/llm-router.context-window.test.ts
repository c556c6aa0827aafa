/**
 * The router plans by an estimate of the prompt's tokens (~4 characters per token), so a deployment with a small
 * `contextWindow` may be chosen for a prompt that turns out longer in its own tokens. When that deployment refuses
 * with `context_length_exceeded`, the call falls over to the later deployments of the order whose context window is
 * larger than every window the prompt overflowed (or unknown), without retrying it and without counting it against
 * the circuit; it fails with `context_length_exceeded` when none is left.
 */
import { describe, expect, it } from 'vitest';
import type { ModelConfigInput } from '../config/schema.js';
import { hasStoriesModel, storiesModelFile, warnIfNoStoriesModel } from '../engines/gguf/stories-model.test-helpers.js';
import { startOpenAIWireServer, type OpenAIWireServer } from '../test/openai-wire-server.js';
import { openAIWireRouter } from '../test/wire-router.test-helpers.js';
import { LLMRouter } from './llm-router.js';

warnIfNoStoriesModel('llm-router.context-window');

/** A server on which every provider model but `gpt-4o` refuses the prompt as OpenAI does when it overflows. */
function overflowServer(): Promise<OpenAIWireServer> {
  return startOpenAIWireServer({
    script: (req) =>
      (req.body as { model?: string }).model !== 'gpt-4o'
        ? {
            error: {
              status: 400,
              type: 'invalid_request_error',
              code: 'context_length_exceeded',
              param: 'messages',
              message: "This model's maximum context length is 16385 tokens. However, your messages resulted in 20012 tokens. Please reduce the length of the messages.",
            },
          }
        : { text: 'done' },
  });
}

// Digits: ~4 characters per token by the estimate (~15 000 tokens, fits 16 385), about 3 per token for OpenAI's
// tokenizers (the server above answers as OpenAI does for such a prompt).
const prompt = '1234567890 '.repeat(5_400);

function model(server: OpenAIWireServer, name: string, providerModel: string, contextWindow: number | undefined, priority: number): ModelConfigInput {
  return { name, model: providerModel, baseURL: server.baseURL, apiKey: 'sk-test', priority, ...(contextWindow !== undefined ? { contextWindow } : {}) };
}

async function outcome(p: Promise<{ deployment: string }>): Promise<string> {
  try {
    return `answered by ${(await p).deployment}`;
  } catch (e) {
    return `failed: ${(e as { code?: string }).code} from ${(e as { deployment?: string }).deployment}`;
  }
}

describe('a deployment whose context the prompt overflows in its own tokens', () => {
  it.skipIf(!hasStoriesModel)('gguf (real stories260K, 512-token context): the call falls over to the deployment with a large window', { timeout: 120_000 }, async () => {
    const router = new LLMRouter({
      models: [
        { name: 'stories', engine: 'gguf', path: storiesModelFile, contextWindow: 512, priority: 1, options: { threads: 1, chatTemplate: 'none', maxTokens: 16 } },
        { name: 'big', engine: 'mock', contextWindow: 200_000, priority: 2 },
      ],
      routing: { strategy: 'priority', retries: { max: 0 } },
    });
    try {
      // 1900 characters of plain English: ~482 tokens by the router's estimate (fits 512), 572 in the model's own tokens.
      const text = 'Once upon a time there was a little girl named Lily who loved to play in the park with her friends. '.repeat(19);
      const plan = await router.route(text);
      expect(plan.order).toEqual(['stories', 'big']);
      const count = await router.countTokens(text, { model: 'stories' });
      expect(count).toMatchObject({ exact: true });
      expect(count.tokens).toBeGreaterThan(512);
      expect(await outcome(router.generate(text))).toBe('answered by big');
    } finally {
      await router.close();
    }
  });

  it('openai-compatible (wire server): a 400 context_length_exceeded from a 16k deployment falls over to the 128k one', async () => {
    const server = await overflowServer();
    const { router } = openAIWireRouter([model(server, 'small', 'gpt-3.5-turbo', 16_385, 1), model(server, 'large', 'gpt-4o', 128_000, 2)]);
    try {
      expect((await router.route(prompt)).order).toEqual(['small', 'large']);
      const result = await router.generate(prompt);
      expect(result.deployment).toBe('large');
      expect(server.requests.map((r) => (r.body as { model: string }).model)).toEqual(['gpt-3.5-turbo', 'gpt-4o']);
      // Not retried, and no strike against the small deployment's circuit (the prompt was at fault there).
      expect(result.attempts.map((a) => [a.deployment, a.ok, a.errorCode, a.strike])).toEqual([
        ['small', false, 'context_length_exceeded', undefined],
        ['large', true, undefined, undefined],
      ]);
      expect(router.models().find((m) => m.name === 'small')!.stats.circuit).toBe('closed');
    } finally {
      await router.close();
      await server.close();
    }
  });

  it('skips deployments whose window is no larger than one the prompt overflowed; tries an unknown window', async () => {
    const server = await overflowServer();
    const { router } = openAIWireRouter([
      model(server, 'small', 'gpt-3.5-turbo', 16_385, 1),
      model(server, 'same', 'gpt-3.5-turbo-0125', 16_385, 2),
      model(server, 'smaller', 'gpt-3.5-mini', 16_000, 3),
      model(server, 'unknown', 'mystery', undefined, 4),
      model(server, 'large', 'gpt-4o', 128_000, 5),
    ]);
    const fallbacks: Array<[string, string]> = [];
    router.on('fallback', (e) => fallbacks.push([e.from, e.to]));
    try {
      expect(await outcome(router.generate(prompt))).toBe('answered by large');
      expect(server.requests.map((r) => (r.body as { model: string }).model)).toEqual(['gpt-3.5-turbo', 'mystery', 'gpt-4o']);
      expect(fallbacks).toEqual([
        ['small', 'unknown'],
        ['unknown', 'large'],
      ]);
    } finally {
      await router.close();
      await server.close();
    }
  });

  it('fails with context_length_exceeded when no later deployment has a larger window', async () => {
    const server = await overflowServer();
    const { router } = openAIWireRouter([model(server, 'small', 'gpt-3.5-turbo', 16_385, 1), model(server, 'same', 'gpt-3.5-turbo-0125', 16_385, 2)]);
    try {
      expect(await outcome(router.generate(prompt))).toBe('failed: context_length_exceeded from small');
      expect(server.requests).toHaveLength(1);
    } finally {
      await router.close();
      await server.close();
    }
  });

  it('a stream falls over the same way (the refusal comes before any content)', async () => {
    const server = await overflowServer();
    const { router } = openAIWireRouter([model(server, 'small', 'gpt-3.5-turbo', 16_385, 1), model(server, 'large', 'gpt-4o', 128_000, 2)]);
    try {
      const stream = router.stream(prompt);
      let text = '';
      for await (const part of stream) if (part.type === 'text-delta') text += part.delta;
      const result = await stream.result;
      expect({ text, deployment: result.deployment }).toEqual({ text: 'done', deployment: 'large' });
      expect(server.requests.map((r) => (r.body as { model: string }).model)).toEqual(['gpt-3.5-turbo', 'gpt-4o']);
    } finally {
      await router.close();
      await server.close();
    }
  });

  it('with hedging on, the fallover skips the same way', async () => {
    const server = await overflowServer();
    const { router } = openAIWireRouter(
      [model(server, 'small', 'gpt-3.5-turbo', 16_385, 1), model(server, 'same', 'gpt-3.5-turbo-0125', 16_385, 2), model(server, 'large', 'gpt-4o', 128_000, 3)],
      { hedging: { enabled: true, delayMs: 60_000, maxHedges: 1 } },
      // The router's own timers: the hedge is not due before the answer.
      { sleep: undefined },
    );
    try {
      expect(await outcome(router.generate(prompt))).toBe('answered by large');
      expect(server.requests.map((r) => (r.body as { model: string }).model)).toEqual(['gpt-3.5-turbo', 'gpt-4o']);
    } finally {
      await router.close();
      await server.close();
    }
  });
});
