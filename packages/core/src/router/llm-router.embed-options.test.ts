/**
 * `LLMRouter.embed` with `dimensions` and with token ids as input, against servers speaking OpenAI's `/embeddings`
 * wire format: sent only to deployments whose engine takes them (`embedDimensions`, `embedTokens()`), the others left
 * out (fallbacks too), the vectors' length checked; and with `user`, sent as OpenAI's `user` where the deployment takes it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ModelConfigInput } from '../config/schema.js';
import { MockEngine } from '../engines/mock/mock-engine.js';
import type { EmbedCallOptions, EmbedResult } from '../spec/index.js';
import { rejection } from '../test/async.test-helpers.js';
import { startOpenAIWireServer, type OpenAIWireServer } from '../test/openai-wire-server.js';
import { openAIWireRouter } from '../test/wire-router.test-helpers.js';
import { LLMRouter } from './llm-router.js';
import { refusedAnswerOf } from './refused-answer.js';
import type { RouterOptions } from './types.js';

let wire: OpenAIWireServer;

beforeEach(async () => {
  wire = await startOpenAIWireServer();
});

afterEach(async () => {
  await wire.close();
});

function wireModel(name: string, extra: Partial<ModelConfigInput> = {}): ModelConfigInput {
  return { name, engine: 'openai-compatible', baseURL: wire.baseURL, model: 'text-embedding-3-small', capabilities: ['embeddings'], apiKey: 'k', price: { input: 0.02, output: 0 }, ...extra };
}

/** A mock engine without `embedDimensions`: a model with vectors of its own length only. */
function fixedLength(): MockEngine {
  return Object.defineProperty(new MockEngine(), 'embedDimensions', { value: undefined });
}

describe('LLMRouter.embed with dimensions', () => {
  it('sends dimensions to an OpenAI-compatible deployment, whose server answers vectors of that length', async () => {
    const { router } = openAIWireRouter([wireModel('emb')]);
    const r = await router.embed(['first text', 'second'], { dimensions: 4 });
    expect(wire.requests.map((q) => q.body)).toEqual([{ input: ['first text', 'second'], encoding_format: 'float', dimensions: 4, model: 'text-embedding-3-small' }]);
    expect(r.embeddings.map((v) => v.length)).toEqual([4, 4]);
    expect(r.deployment).toBe('emb');
  });

  it('leaves out a deployment whose engine cannot set the length, as a candidate and as a fallback; none left is a 400 naming dimensions', async () => {
    const options: RouterOptions = { engines: { fixed: fixedLength() } };
    const models = [{ name: 'fixed', engine: 'mock', capabilities: ['embeddings'], priority: 0 } satisfies ModelConfigInput, wireModel('emb', { priority: 1 })];
    const { router } = openAIWireRouter(models, {}, options);
    const r = await router.embed('one text', { dimensions: 3, explain: true });
    expect(r.deployment).toBe('emb');
    expect(r.embeddings[0]).toHaveLength(3);
    expect(r.decision?.excluded).toEqual([{ name: 'fixed', reason: `engine "mock" cannot set the vectors' dimensions`, kind: 'unfit' }]);
    // What a budget reserving for the call (the gateway's) reads to count only the deployments it may plan.
    expect(router.models().map((d) => [d.name, d.embedDimensions])).toEqual([
      ['fixed', false],
      ['emb', true],
    ]);
    // Without dimensions the fixed-length model is the first choice.
    expect((await router.embed('one text')).deployment).toBe('fixed');

    // A configured fallback that would ignore dimensions is not tried: the wire deployment's failure is the answer.
    wire.setScript({ error: { status: 503, message: 'overloaded' } });
    const { router: withFallback } = openAIWireRouter([wireModel('emb'), { name: 'fixed', engine: 'mock', capabilities: ['embeddings'] }], { fallbacks: { emb: ['fixed'] } }, options);
    const failed = await rejection(withFallback.embed('x', { model: 'emb', dimensions: 3 }));
    expect(failed.code).toBe('provider_unavailable');
    expect((options.engines!['fixed'] as MockEngine).embedCalls).toBe(1);
    // Without dimensions the fallback answers.
    expect((await withFallback.embed('x', { model: 'emb' })).deployment).toBe('fixed');

    const { router: fixedOnly } = openAIWireRouter([{ name: 'fixed', engine: 'mock', capabilities: ['embeddings'] }], {}, { engines: { fixed: fixedLength() } });
    const refused = await rejection(fixedOnly.embed('x', { dimensions: 3 }));
    expect([refused.code, refused.statusCode, refused.param]).toEqual(['unsupported', 400, 'dimensions']);
  });

  it('a server that ignores dimensions fails the call: unsupported naming dimensions, not retried nor sent elsewhere (the answer was billed)', async () => {
    wire.setScript({ ignoresDimensions: true, embeddingDimensions: 8 });
    const { router } = openAIWireRouter([wireModel('emb', { priority: 0 }), { name: 'mock', engine: 'mock', capabilities: ['embeddings'], priority: 1 }]);
    const err = await rejection(router.embed(['a', 'b'], { dimensions: 4 }));
    expect([err.code, err.param, err.afterResponse, err.deployment]).toEqual(['unsupported', 'dimensions', true, 'emb']);
    expect(err.message).toContain('vectors of 8 dimensions for dimensions 4');
    expect(wire.requests).toHaveLength(1);
  });

  it('text-embedding-ada-002 (which OpenAI refuses dimensions for) is left out, not asked; options.embedDimensions overrides the default', async () => {
    const ada = wireModel('ada', { model: 'text-embedding-ada-002', priority: 0 });
    const { router } = openAIWireRouter([ada, wireModel('small', { priority: 1 })]);
    const r = await router.embed('one text', { dimensions: 3 });
    expect(r.deployment).toBe('small');
    expect(wire.requests.map((q) => (q.body as { model?: string }).model)).toEqual(['text-embedding-3-small']);
    expect((await router.embed('one text')).deployment).toBe('ada');

    // A server with one vector length: the operator says so, and the call goes elsewhere instead of to its error.
    const fixedServer = wireModel('fixed-server', { priority: 0, options: { embedDimensions: false } });
    const { router: withOption } = openAIWireRouter([fixedServer, wireModel('small', { priority: 1 })]);
    expect((await withOption.embed('x', { dimensions: 3 })).deployment).toBe('small');
    // And an ada-002 behind a server that does take dimensions can say so.
    const { router: adaTakes } = openAIWireRouter([wireModel('ada', { model: 'text-embedding-ada-002', options: { embedDimensions: true } })]);
    expect((await adaTakes.embed('x', { dimensions: 3 })).embeddings[0]).toHaveLength(3);
    const { router: adaOnly } = openAIWireRouter([ada]);
    expect(await rejection(adaOnly.embed('x', { dimensions: 3 }))).toMatchObject({ code: 'unsupported', statusCode: 400, param: 'dimensions' });
  });

  it('the mock engine honours it too (demos), and a bad value is the request\'s error', async () => {
    const { router } = openAIWireRouter([{ name: 'mock', engine: 'mock', capabilities: ['embeddings'] }]);
    expect((await router.embed(['a b c'], { dimensions: 12 })).embeddings[0]).toHaveLength(12);
    for (const dimensions of [0, -1, 1.5, Number.NaN]) {
      expect(await rejection(router.embed('x', { dimensions }))).toMatchObject({ code: 'invalid_request', param: 'dimensions' });
    }
  });
});

describe('LLMRouter.embed with user', () => {
  it("sends it as OpenAI's user (texts and token ids), as on chat; a preset without the field (Mistral) answers with a setting_not_sent warning", async () => {
    const { router } = openAIWireRouter([wireModel('emb'), wireModel('mistral', { preset: 'mistral', model: 'mistral-embed' })]);
    const r = await router.embed('a text', { model: 'emb', user: 'end-user-1' });
    await router.embed([[1, 2]], { model: 'emb', user: 'end-user-1' });
    expect(wire.requests.map((q) => q.body)).toEqual([
      { input: ['a text'], encoding_format: 'float', user: 'end-user-1', model: 'text-embedding-3-small' },
      { input: [[1, 2]], encoding_format: 'float', user: 'end-user-1', model: 'text-embedding-3-small' },
    ]);
    expect(r.warnings).toBeUndefined();
    const mistral = await router.embed('a text', { model: 'mistral', user: 'end-user-1' });
    expect(wire.requests.at(-1)?.body).toEqual({ input: ['a text'], encoding_format: 'float', model: 'mistral-embed' });
    expect(mistral.warnings).toEqual([{ code: 'setting_not_sent', field: 'user', message: 'user was not sent: Mistral takes no user field.' }]);
  });

  it('a user that is not a string is the request\'s error, nothing sent', async () => {
    const { router } = openAIWireRouter([wireModel('emb')]);
    const error = await rejection(router.embed('a text', { user: 42 as unknown as string }));
    expect(error).toMatchObject({ code: 'invalid_request', param: 'user' });
    expect(wire.requests).toHaveLength(0);
  });
});

describe('LLMRouter.embed with token ids', () => {
  it('passes them unchanged to an OpenAI-compatible deployment (one array, or one per input) with dimensions', async () => {
    const { router } = openAIWireRouter([wireModel('emb')]);
    const one = await router.embed([1, 2, 3], { dimensions: 4 });
    const batch = await router.embed([[1, 2, 3], [4000, 5]]);
    expect(wire.requests.map((q) => (q.body as { input: unknown }).input)).toEqual([[[1, 2, 3]], [[1, 2, 3], [4000, 5]]]);
    expect(one.embeddings.map((v) => v.length)).toEqual([4]);
    expect(batch.embeddings).toHaveLength(2);
    // The server's count: the ids' length.
    expect(batch.usage).toEqual({ inputTokens: 5, outputTokens: 0, totalTokens: 5 });
  });

  it('their count is their length: unreported usage is not an estimate, and the context window is checked against it', async () => {
    wire.setScript({ usage: null });
    const { router } = openAIWireRouter([wireModel('small', { contextWindow: 3, priority: 0 }), wireModel('large', { priority: 1 })]);
    const r = await router.embed([[1, 2], [3, 4, 5, 6]], { explain: true });
    expect(r.usage).toEqual({ inputTokens: 6, outputTokens: 0, totalTokens: 6 });
    expect(r.cost.estimated).toBe(false);
    expect(r.deployment).toBe('large');
    expect(r.decision?.excluded).toEqual([{ name: 'small', reason: 'context window 3 < ~4 tokens of the longest input', kind: 'unfit' }]);
  });

  it('go only to engines with embedTokens(): the mock is left out; none left is a 400 naming input that tells LangChain users what to set', async () => {
    const { router } = openAIWireRouter([{ name: 'mock', engine: 'mock', capabilities: ['embeddings'], priority: 0 }, wireModel('emb', { priority: 1 })]);
    const r = await router.embed([[7, 8]], { explain: true });
    expect(r.deployment).toBe('emb');
    expect(r.decision?.excluded).toEqual([{ name: 'mock', reason: 'engine "mock" cannot embed token ids (input as text only)', kind: 'unfit' }]);
    // What a budget reserving for the call (the gateway's) reads to count only the deployments it may plan.
    expect(router.models().map((d) => [d.name, d.embedTokens])).toEqual([
      ['mock', false],
      ['emb', true],
    ]);

    const { router: mockOnly } = openAIWireRouter([{ name: 'mock', engine: 'mock', capabilities: ['embeddings'] }]);
    const err = await rejection(mockOnly.embed([[7, 8]]));
    expect([err.code, err.statusCode, err.param]).toEqual(['unsupported', 400, 'input']);
    expect(err.message).toContain('check_embedding_ctx_length=False');
    expect(err.message).toContain('mock: engine "mock" cannot embed token ids');
  });

  it('checks them: non-empty arrays of integers >= 0, not mixed with texts, naming the bad element', async () => {
    const { router } = openAIWireRouter([wireModel('emb')]);
    for (const [input, param] of [
      [[[1, 2], []], 'input.1'],
      [[[1, 2], [3, -1]], 'input.1.1'],
      [[1, 2.5], 'input.1'],
      [[[1], 'text'], 'input.1'],
      [['text', [1]], 'input.1'],
      [[1, '2'], 'input.1'],
      [[[Number.MAX_SAFE_INTEGER + 1]], 'input.0.0'],
    ] as const) {
      expect(await rejection(router.embed(input as unknown as number[][]))).toMatchObject({ code: 'invalid_request', param });
    }
    expect(wire.requests).toHaveLength(0);
  });
});

/** A custom engine that sets no length (vectors of 8 numbers whatever it is asked) and reports output tokens for an embedding (the router's `embedUsage` drops them on an answer it takes). */
class IgnoresDimensions extends MockEngine {
  override async embed(input: string[], _options: EmbedCallOptions = {}): Promise<EmbedResult> {
    return { embeddings: input.map(() => Array.from({ length: 8 }, (_, i) => i / 8)), usage: { inputTokens: 4, outputTokens: 4, totalTokens: 8 } };
  }
}

function ignoringRouter(): LLMRouter {
  return new LLMRouter(
    { models: [{ name: 'emb', engine: 'mock', capabilities: ['embeddings'], price: { input: 1, output: 10 } }], routing: { retries: { max: 0 } } },
    { engines: { emb: new IgnoresDimensions() } },
  );
}

// Its answer is refused (`unsupported` naming `dimensions`, not requested again), no strike on the deployment's
// circuit, and the error carries what the refused answer cost (`refusedAnswerOf(details)`), priced as the answer taken
// would be (no output tokens).
describe('a server that ignores dimensions', () => {
  it('requests asking dimensions do not open the circuit of a healthy deployment (its plain text calls move elsewhere)', async () => {
    wire.setScript({ ignoresDimensions: true, embeddingDimensions: 8 });
    const { router } = openAIWireRouter(
      [wireModel('emb', { priority: 0 }), { name: 'backup', engine: 'mock', capabilities: ['embeddings'], priority: 1 }],
      { retries: { max: 0 }, circuitBreaker: { failureThreshold: 3 } },
    );
    // One client (one tenant) asking dimensions of a model whose server ignores them.
    for (let i = 0; i < 3; i++) {
      expect((await rejection(router.embed('x', { dimensions: 4 }))).code).toBe('unsupported');
    }
    // The server answered every call (200, vectors of its own length): it is healthy; the option is what it lacks.
    expect(router.circuits().find((c) => c.deployment === 'emb')?.state).toBe('closed');
    // Everyone else's plain text calls still go to it.
    expect((await router.embed('plain text, no dimensions')).deployment).toBe('emb');
    await router.close();
  });

  it('the refused answer was billed (the server reported its usage): the error says what it cost', async () => {
    wire.setScript({ ignoresDimensions: true, embeddingDimensions: 8 });
    const { router } = openAIWireRouter([wireModel('emb', { price: { input: 1000, output: 0 } })], { retries: { max: 0 } });
    const err = await rejection(router.embed(['abcdefgh', 'abcd'], { dimensions: 4 }));
    expect(err).toMatchObject({ code: 'unsupported', param: 'dimensions', afterResponse: true });
    // What a consumer (the gateway's ledger) records: the reported usage and its cost at the deployment's price.
    const refused = refusedAnswerOf(err.details);
    expect(refused?.usage.inputTokens, 'billed usage on the error').toBeGreaterThan(0);
    expect(refused?.cost.totalUsd).toBeCloseTo((refused!.usage.inputTokens * 1000) / 1e6, 12);
    await router.close();
  });

  it('is priced as the answer taken would be (no output tokens billed)', async () => {
    const taken = await ignoringRouter().embed('some text');
    expect(taken.usage.outputTokens).toBe(0);
    expect(taken.cost.totalUsd).toBeCloseTo(4 / 1e6, 12);
    const err = await rejection(ignoringRouter().embed('some text', { dimensions: 3 }));
    expect(err.code).toBe('unsupported');
    const refused = refusedAnswerOf(err.details);
    expect(refused?.cost.totalUsd, 'the refused answer\'s cost, as the same answer taken costs').toBeCloseTo(taken.cost.totalUsd, 12);
    expect(refused?.usage.outputTokens).toBe(0);
  });
});

describe('hedged embed over servers that ignore dimensions: every lane\'s billed answer is the call\'s spend', () => {
  const hedged = { retries: { max: 0 }, hedging: { enabled: true, delayMs: 50, maxHedges: 1 } };

  async function twoLanes(second: Parameters<OpenAIWireServer['setScript']>[0]) {
    const other = await startOpenAIWireServer({ script: second });
    const { router } = openAIWireRouter(
      [wireModel('a', { priority: 1, price: { input: 1, output: 0 } }), wireModel('b', { baseURL: other.baseURL, priority: 2, price: { input: 2, output: 0 } })],
      hedged,
    );
    return { router, other };
  }

  it('both lanes answer vectors of the wrong length: the error carries both refused answers, summed, the other lane\'s apart with its deployment', async () => {
    wire.setScript({ delayMs: 300, ignoresDimensions: true, embeddingDimensions: 8 });
    const { router, other } = await twoLanes({ delayMs: 500, ignoresDimensions: true, embeddingDimensions: 8 });
    try {
      const err = await rejection(router.embed(['abcdefgh', 'abcd'], { dimensions: 4 }));
      expect(err).toMatchObject({ code: 'unsupported', param: 'dimensions', afterResponse: true, deployment: 'a' });
      expect([wire.requests.length, other.requests.length]).toEqual([1, 1]);
      const refused = refusedAnswerOf(err.details);
      expect(refused?.usage.inputTokens, 'both answers\' prompt tokens').toBe(6);
      expect(refused?.cost.totalUsd, 'each at its deployment\'s price').toBeCloseTo((3 * 1 + 3 * 2) / 1e6, 12);
      // The error's own answer is its `deployment`'s (a); the other lane's, in the sum, with its own (for per-deployment spend).
      expect(refused?.failedAttempts).toMatchObject([{ deployment: 'b', model: 'text-embedding-3-small', provider: expect.any(String), usage: { inputTokens: 3 } }]);
      expect(refused?.failedAttempts?.[0]?.cost.totalUsd).toBeCloseTo((3 * 2) / 1e6, 12);
    } finally {
      await router.close();
      await other.close();
    }
  });

  it('the first lane\'s answer is refused, the hedge lane answers: its cost holds the refused answer, apart in failedAttempts*', async () => {
    wire.setScript({ delayMs: 300, ignoresDimensions: true, embeddingDimensions: 8 });
    const { router, other } = await twoLanes({ delayMs: 500, embeddingDimensions: 8 });
    try {
      const result = await router.embed(['abcdefgh', 'abcd'], { dimensions: 4 });
      expect(result.deployment).toBe('b');
      expect([wire.requests.length, other.requests.length]).toEqual([1, 1]);
      // `usage` stays the answer's; the refused answer is on top, with its deployment.
      expect(result.usage.inputTokens).toBe(3);
      expect(result.failedAttemptsUsage?.inputTokens).toBe(3);
      expect(result.failedAttemptsCost?.totalUsd).toBeCloseTo(3 / 1e6, 12);
      expect(result.failedAttempts).toMatchObject([{ deployment: 'a', model: 'text-embedding-3-small', provider: expect.any(String), usage: { inputTokens: 3 } }]);
      expect(result.cost.totalUsd, 'the answer at b\'s price and the refused one at a\'s').toBeCloseTo((3 * 2 + 3 * 1) / 1e6, 12);
    } finally {
      await router.close();
      await other.close();
    }
  });
});
