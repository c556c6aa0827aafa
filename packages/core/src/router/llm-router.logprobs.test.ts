/**
 * Log probabilities through the router: `RouterResult.logprobs` is the answering attempt's (failover, hedging,
 * cascades), streams pass `logprobs` parts through right after their text delta and fold them into `.result`, the
 * exact cache keeps and replays them, and the semantic cache never answers (or stores) a request asking for them.
 * The engines are small test engines: each word of the answer is one token, with a log probability that names the
 * engine, so a result shows whose tokens it carries.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RouterConfigInput } from '../config/schema.js';
import { LLMError } from '../errors/llm-error.js';
import { MockEngine } from '../engines/mock/mock-engine.js';
import type { CallOptions, GenerateRequest, GenerateResult, LanguageEngine, StreamPart, TokenLogprob } from '../spec/index.js';
import { collect } from '../test/async.test-helpers.js';
import { LLMRouter } from './llm-router.js';
import type { RouterOptions, RouterStreamPart } from './types.js';

interface Behaviour {
  /** The answer, one token per word (with the whitespace after it). */
  text: string;
  /** Every token's log probability: tells the engines apart. */
  logprob: number;
  /** Fail before any content (a retryable provider error). */
  fail?: boolean;
  /** Wait this long (or until aborted) before the first part. */
  delayMs?: number;
  /** Give no log probabilities even when asked (as an engine that cannot would, with a warning). */
  noLogprobs?: boolean;
}

class LogprobsEngine implements LanguageEngine {
  readonly specVersion = 'v1' as const;
  readonly provider = 'test';
  readonly capabilities = { streaming: true };
  calls = 0;
  requests: GenerateRequest[] = [];

  constructor(
    readonly modelId: string,
    private readonly b: Behaviour,
  ) {}

  private tokens(request: GenerateRequest): TokenLogprob[] | undefined {
    if (request.logprobs === undefined || this.b.noLogprobs) return undefined;
    const top = request.logprobs.topLogprobs ?? 0;
    return (this.b.text.match(/\S+\s*/gu) ?? []).map((token) => ({
      token,
      logprob: this.b.logprob,
      ...(top > 0 ? { topLogprobs: [{ token, logprob: this.b.logprob }, { token: 'x', logprob: -5 }].slice(0, top) } : {}),
    }));
  }

  private async start(request: GenerateRequest, signal: AbortSignal | undefined): Promise<void> {
    this.calls++;
    this.requests.push(request);
    if (this.b.delayMs !== undefined) {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, this.b.delayMs);
        signal?.addEventListener('abort', () => {
          clearTimeout(t);
          reject(new LLMError({ code: 'aborted', message: 'aborted' }));
        });
      });
    }
    if (this.b.fail) throw new LLMError({ code: 'provider_error', message: `${this.modelId} failed`, provider: 'test' });
  }

  async generate(request: GenerateRequest, options?: CallOptions): Promise<GenerateResult> {
    await this.start(request, options?.signal);
    const logprobs = this.tokens(request);
    return {
      text: this.b.text,
      toolCalls: [],
      finishReason: 'stop',
      usage: { inputTokens: 3, outputTokens: 2, totalTokens: 5 },
      ...(logprobs ? { logprobs } : {}),
      ...(request.logprobs !== undefined && this.b.noLogprobs ? { warnings: [{ code: 'setting_not_sent' as const, field: 'logprobs', message: 'logprobs was not sent.' }] } : {}),
    };
  }

  async *stream(request: GenerateRequest, options?: CallOptions): AsyncIterable<StreamPart> {
    await this.start(request, options?.signal);
    yield { type: 'response-metadata', id: `${this.modelId}-1`, model: this.modelId };
    const logprobs = this.tokens(request);
    for (const word of this.b.text.match(/\S+\s*/gu) ?? []) {
      yield { type: 'text-delta', delta: word };
      if (logprobs) yield { type: 'logprobs', logprobs: [logprobs.find((t) => t.token === word)!] };
    }
    yield { type: 'finish', finishReason: 'stop', usage: { inputTokens: 3, outputTokens: 2, totalTokens: 5 } };
  }
}

const routers: LLMRouter[] = [];
afterEach(async () => {
  await Promise.all(routers.splice(0).map((r) => r.close()));
});

/** A router over test engines `a`, `b`... in priority order (no retries: a failure fails over to the next). */
function setup(engines: Record<string, LanguageEngine>, config: Omit<RouterConfigInput, 'models'> = {}, options: RouterOptions = {}): LLMRouter {
  const names = Object.keys(engines);
  const router = new LLMRouter(
    {
      ...config,
      models: names.map((name, i) => ({ name, engine: 'mock', priority: i + 1, capabilities: name === 'emb' ? ['embeddings'] : ['chat', 'streaming'] })),
      routing: { strategy: 'priority', retries: { max: 0 }, ...(config.routing as object | undefined) },
    },
    { ...options, engines },
  );
  routers.push(router);
  return router;
}

const ASK = { logprobs: { topLogprobs: 1 } } as const;

/** The stream's parts without `route`, checking each `logprobs` part comes right after the text delta it spells. */
function checkedOrder(parts: RouterStreamPart[]): void {
  parts.forEach((p, i) => {
    if (p.type !== 'logprobs') return;
    const before = parts[i - 1];
    expect(before?.type).toBe('text-delta');
    expect(p.logprobs.map((t) => t.token).join('')).toBe((before as Extract<StreamPart, { type: 'text-delta' }>).delta);
  });
}

describe('router: logprobs of the answering attempt', () => {
  it('generate carries the engine\'s logprobs; a request without logprobs gets no field', async () => {
    const router = setup({ a: new LogprobsEngine('ma', { text: 'Paris it is', logprob: -0.1 }) });
    const r = await router.generate('capital?', ASK);
    expect(r.logprobs).toEqual([
      { token: 'Paris ', logprob: -0.1, topLogprobs: [{ token: 'Paris ', logprob: -0.1 }] },
      { token: 'it ', logprob: -0.1, topLogprobs: [{ token: 'it ', logprob: -0.1 }] },
      { token: 'is', logprob: -0.1, topLogprobs: [{ token: 'is', logprob: -0.1 }] },
    ]);
    expect(await router.generate('capital?')).not.toHaveProperty('logprobs');
  });

  it('stream: logprobs parts pass through right after their text delta; .result folds them, as generate has them', async () => {
    const router = setup({ a: new LogprobsEngine('ma', { text: 'Paris it is', logprob: -0.1 }) });
    const s = router.stream('capital?', ASK);
    const parts = await collect(s);
    expect(parts.map((p) => p.type)).toEqual(['route', 'response-metadata', 'text-delta', 'logprobs', 'text-delta', 'logprobs', 'text-delta', 'logprobs', 'finish']);
    checkedOrder(parts);
    const streamed = await s.result;
    const generated = await router.generate('capital?', ASK);
    expect(streamed.logprobs).toEqual(generated.logprobs);
    expect(streamed.logprobs?.map((t) => t.token).join('')).toBe(streamed.text);
    const plain = router.stream('capital?');
    expect((await collect(plain)).some((p) => p.type === 'logprobs')).toBe(false);
    expect(await plain.result).not.toHaveProperty('logprobs');
  });

  it('failover: the attempt that failed before content gave none; the answer carries the next deployment\'s', async () => {
    const a = new LogprobsEngine('ma', { text: 'from a', logprob: -1, fail: true });
    const b = new LogprobsEngine('mb', { text: 'from b', logprob: -2 });
    const router = setup({ a, b });
    const r = await router.generate('q', ASK);
    expect(r.deployment).toBe('b');
    expect(r.logprobs?.map((t) => t.logprob)).toEqual([-2, -2]);
    const s = router.stream('q', ASK);
    const parts = await collect(s);
    checkedOrder(parts);
    const streamed = await s.result;
    expect(streamed.deployment).toBe('b');
    expect(streamed.logprobs?.map((t) => [t.token, t.logprob])).toEqual([['from ', -2], ['b', -2]]);
    expect(a.calls).toBe(2);
  });

  it('hedged stream: the slow primary is cancelled; only the hedge\'s logprobs reach the consumer and the result', async () => {
    const a = new LogprobsEngine('ma', { text: 'slow answer', logprob: -1, delayMs: 10_000 });
    const b = new LogprobsEngine('mb', { text: 'fast answer', logprob: -2 });
    const router = setup({ a, b }, { routing: { hedging: { enabled: true, delayMs: 20 } } });
    const s = router.stream('q', ASK);
    const parts = await collect(s);
    const r = await s.result;
    expect(r.deployment).toBe('b');
    const streamed = parts.flatMap((p) => (p.type === 'logprobs' ? p.logprobs : []));
    expect(streamed.map((t) => t.logprob)).toEqual([-2, -2]);
    expect(r.logprobs).toEqual(streamed);
  });

  it('cascade: the answering step\'s logprobs (the weak one kept, or the strong one after escalation)', async () => {
    for (const [score, expected] of [[0, -1], [1, -2]] as const) {
      const weak = new LogprobsEngine('mw', { text: 'weak answer', logprob: -1 });
      const strong = new LogprobsEngine('ms', { text: 'strong answer', logprob: -2 });
      const router = setup(
        { weak, strong },
        { routing: { cascades: [{ name: 'c', weak: 'weak', strong: 'strong', verifier: 'fixed', threshold: 0.5 }] } },
        { verifiers: { fixed: () => score } },
      );
      const r = await router.generate('q', { ...ASK, model: 'c' });
      expect(r.cascade?.escalated).toBe(score === 1);
      expect(r.logprobs?.map((t) => t.logprob)).toEqual([expected, expected]);
      const s = router.stream('q', { ...ASK, model: 'c' });
      const parts = await collect(s);
      checkedOrder(parts);
      expect(parts.flatMap((p) => (p.type === 'logprobs' ? p.logprobs : [])).map((t) => t.logprob)).toEqual([expected, expected]);
      expect((await s.result).logprobs).toEqual(r.logprobs);
    }
  });
});

describe('router: logprobs and the exact cache', () => {
  const exact = { cache: { exact: { enabled: true } } } as const;

  it('a stored answer keeps its logprobs: a JSON hit returns them, a stream hit replays each after its text delta', async () => {
    const a = new LogprobsEngine('ma', { text: 'Paris it is', logprob: -0.1 });
    const router = setup({ a }, exact);
    const first = await router.generate('capital?', ASK);
    const hit = await router.generate('capital?', ASK);
    expect(hit.cached).toBe('exact');
    expect(hit.logprobs).toEqual(first.logprobs);
    const s = router.stream('capital?', ASK);
    const parts = await collect(s);
    expect(parts[0]).toMatchObject({ type: 'route', cached: 'exact' });
    expect(parts.filter((p) => p.type === 'text-delta' || p.type === 'logprobs').map((p) => p.type)).toEqual(['text-delta', 'logprobs', 'text-delta', 'logprobs', 'text-delta', 'logprobs']);
    checkedOrder(parts);
    const replayed = await s.result;
    expect(replayed.logprobs).toEqual(first.logprobs);
    expect(replayed.text).toBe(first.text);
    expect(a.calls).toBe(1);
  });

  it('the key separates them: a request without logprobs (or with other topLogprobs) is not answered by the entry', async () => {
    const a = new LogprobsEngine('ma', { text: 'Paris it is', logprob: -0.1 });
    const router = setup({ a }, exact);
    await router.generate('capital?', ASK);
    const plain = await router.generate('capital?');
    expect(plain.cached).toBe(false);
    expect(plain).not.toHaveProperty('logprobs');
    const more = await router.generate('capital?', { logprobs: { topLogprobs: 2 } });
    expect(more.cached).toBe(false);
    expect(more.logprobs?.[0]?.topLogprobs).toHaveLength(2);
    expect(a.calls).toBe(3);
  });

  it('a text answer without logprobs to a request that asked for them is not stored (the next call asks again, and warns)', async () => {
    const a = new LogprobsEngine('ma', { text: 'no tokens', logprob: 0, noLogprobs: true });
    const router = setup({ a }, exact);
    const first = await router.generate('q', ASK);
    expect(first.logprobs).toBeUndefined();
    expect(first.warnings?.[0]?.field).toBe('logprobs');
    const second = await router.generate('q', ASK);
    expect(second.cached).toBe(false);
    expect(second.warnings?.[0]?.field).toBe('logprobs');
    expect(a.calls).toBe(2);
    // Asked without logprobs, the same engine's answer is stored as ever.
    await router.generate('q');
    expect((await router.generate('q')).cached).toBe('exact');
  });
});

describe('router: logprobs and the semantic cache', () => {
  const QUESTION = 'What is the capital of France?';
  const PARAPHRASE = 'what is the capital of france';

  function semanticRouter() {
    const a = new LogprobsEngine('ma', { text: 'Paris it is', logprob: -0.1 });
    const router = setup({ a, emb: new MockEngine({ modelId: 'mock-embed' }) }, { cache: { semantic: { enabled: true, embedder: 'emb', threshold: 0.9, guardAbove: 0.9 } } });
    return { a, router };
  }

  it('a request asking for logprobs is never answered from a paraphrase\'s entry', async () => {
    const { a, router } = semanticRouter();
    const stored = await router.generate(QUESTION);
    expect(stored.cached).toBe(false);
    expect((await router.generate(PARAPHRASE)).cached).toBe('semantic');
    const asked = await router.generate(PARAPHRASE, ASK);
    expect(asked.cached).toBe(false);
    expect(asked.logprobs?.length).toBe(3);
    const s = router.stream(PARAPHRASE, ASK);
    const parts = await collect(s);
    expect(parts[0]).toMatchObject({ type: 'route', cached: false });
    expect((await s.result).logprobs?.length).toBe(3);
    expect(a.calls).toBe(3);
  });

  it('nor is its answer stored for paraphrases (its logprobs belong to its own prompt)', async () => {
    const { a, router } = semanticRouter();
    await router.generate(QUESTION, ASK);
    const paraphrased = await router.generate(PARAPHRASE);
    expect(paraphrased.cached).toBe(false);
    expect(a.calls).toBe(2);
  });

  it('other sampling settings (topK, penalties, verbosity) are namespaces of their own', async () => {
    const { a, router } = semanticRouter();
    await router.generate(QUESTION);
    for (const settings of [{ topK: 1 }, { frequencyPenalty: 0.5 }, { presencePenalty: 0.5 }, { verbosity: 'low' as const }]) {
      expect((await router.generate(PARAPHRASE, settings)).cached).toBe(false);
    }
    expect(a.calls).toBe(5);
    expect((await router.generate(PARAPHRASE, { topK: 1 })).cached).toBe('semantic');
  });
});
