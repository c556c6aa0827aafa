/**
 * The caller's abort while an async strategy ranks ends the call as every other abort does (`aborted`, whatever reason
 * the caller gave), on every call kind that ranks (`generate`, a plain stream, `embed`), whether or not the strategy
 * honours the abort (docs/core/router.md); a token count's abort while its remote count waits for admission says
 * `aborted` too. Real LLMRouter, mock engines, a strategy whose ranking never settles (it ignores the abort).
 */
import { describe, expect, it } from 'vitest';
import { MockEngine } from '../engines/mock/mock-engine.js';
import type { GenerateRequest } from '../spec/index.js';
import { LLMRouter } from './llm-router.js';

function router(): LLMRouter {
  const r = new LLMRouter(
    {
      models: [
        { name: 'a', engine: 'mock', priority: 1 },
        { name: 'emb', engine: 'mock', model: 'mock-embed', priority: 2, capabilities: ['embeddings'] },
      ],
      routing: { strategy: 'priority', retries: { max: 0 } },
    },
    { engines: { a: new MockEngine({ modelId: 'a-model', delayMs: 60_000 }), emb: new MockEngine({ modelId: 'mock-embed' }) }, env: {} },
  );
  return r;
}

function stuck(r: LLMRouter): { ranked: () => number } {
  let n = 0;
  r.addStrategy('stuck', {
    name: 'stuck',
    rank: () => {
      n++;
      return new Promise(() => {});
    },
  });
  r.setStrategy('stuck');
  return { ranked: () => n };
}

/** Settles `p` or says it hung (a guard of several seconds, not a timing bound). */
function guard<T>(p: Promise<T>): Promise<T | 'hung'> {
  return Promise.race([p, new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 8_000).unref())]);
}

describe("the caller's abort while an async strategy ranks (it ignores the abort)", () => {
  it.each([
    ['an Error', () => new Error('the user navigated away')],
    ['a string', () => 'user left'],
  ])('generate, the abort with %s as its reason: aborted, as the same abort while the engine runs is', async (_, reason) => {
    // The baseline: a plain strategy, the abort while the engine runs.
    const plain = router();
    try {
      const ac = new AbortController();
      plain.on('request:start', () => ac.abort(reason()));
      const call = plain.generate('hi', { model: 'a', signal: ac.signal });
      await expect(guard(call.then(() => 'answered', (e: { code?: string }) => e.code))).resolves.toBe('aborted');
    } finally {
      await plain.close();
    }
    const r = router();
    const s = stuck(r);
    try {
      const ac = new AbortController();
      const call = r.generate('hi', { model: 'a', signal: ac.signal });
      await expect.poll(() => s.ranked(), { timeout: 8_000 }).toBe(1);
      ac.abort(reason());
      await expect(guard(call.then(() => 'answered', (e: { code?: string }) => e.code))).resolves.toBe('aborted');
    } finally {
      await r.close();
    }
  });

  it('embed: the abort ends it, aborted', async () => {
    const r = router();
    const s = stuck(r);
    try {
      const ac = new AbortController();
      const call = r.embed(['hi'], { model: 'emb', signal: ac.signal });
      await expect.poll(() => s.ranked(), { timeout: 8_000 }).toBe(1);
      ac.abort();
      await expect(guard(call.then(() => 'answered', (e: { code?: string }) => e.code))).resolves.toBe('aborted');
    } finally {
      await r.close();
    }
  }, 40_000);

  it('route (a preview, no call follows): the abort ends it, aborted, so its caller is not held by the ranking', async () => {
    const r = router();
    const s = stuck(r);
    try {
      const ac = new AbortController();
      const preview = r.route('hi', { signal: ac.signal });
      await expect.poll(() => s.ranked(), { timeout: 8_000 }).toBe(1);
      ac.abort();
      await expect(guard(preview.then(() => 'answered', (e: { code?: string }) => e.code))).resolves.toBe('aborted');
    } finally {
      await r.close();
    }
  }, 40_000);

  it('a plain stream (no cascade): the abort ends it with an aborted error part, and .result rejects aborted', async () => {
    const r = router();
    const s = stuck(r);
    try {
      const ac = new AbortController();
      const stream = r.stream('hi', { model: 'a', signal: ac.signal });
      const drained = (async () => {
        for await (const part of stream) if (part.type === 'error') return part.error.code;
        return 'ended';
      })();
      await expect.poll(() => s.ranked(), { timeout: 8_000 }).toBe(1);
      ac.abort();
      const code = await guard(drained);
      expect([code, await guard(stream.result.then(() => 'answered', (e: { code?: string }) => e.code))]).toEqual(['aborted', 'aborted']);
    } finally {
      await r.close();
    }
  }, 40_000);
});

describe("a token count's abort while its remote count waits for admission", () => {
  it.each([
    ['an Error', () => new Error('the user navigated away')],
    ['a string', () => 'user left'],
  ])('the abort with %s as its reason: aborted', async (_, reason) => {
    const engine = new MockEngine({ modelId: 'a-model' });
    const local = engine.countTokens.bind(engine);
    Object.assign(engine, { countTokensRemote: true, countTokens: (request: GenerateRequest) => local(request) });
    const r = new LLMRouter({ models: [{ name: 'a', engine: 'mock' }], routing: { strategy: 'priority' } }, { engines: { a: engine }, env: {} });
    try {
      let asked = 0;
      const ac = new AbortController();
      const count = r.countTokens('hi', {
        model: 'a',
        signal: ac.signal,
        // An admission that never comes (a limiter that ignores the abort).
        admitRemote: () => {
          asked++;
          return new Promise(() => {});
        },
      });
      await expect.poll(() => asked, { timeout: 8_000 }).toBe(1);
      ac.abort(reason());
      await expect(guard(count.then(() => 'answered', (e: { code?: string }) => e.code))).resolves.toBe('aborted');
    } finally {
      await r.close();
    }
  });
});

describe('route() with a signal that is not an AbortSignal (a JavaScript caller)', () => {
  it('is refused as generate refuses it: invalid_request naming signal, not an internal error', async () => {
    const r = router();
    r.addStrategy('later', { name: 'later', rank: async (ctx) => ctx.candidates.map((d) => ({ deployment: d })) });
    try {
      const bad = { aborted: false } as unknown as AbortSignal;
      const outcome = (p: Promise<unknown>) => p.then(() => 'answered', (e: { code?: string; param?: string }) => `${e.code}/${e.param}`);
      const generate = await outcome(r.generate('hi', { model: 'a', strategy: 'later', signal: bad }));
      const route = await outcome(r.route('hi', { model: 'a', strategy: 'later', signal: bad }));
      expect({ generate, route }).toEqual({ generate: 'invalid_request/signal', route: 'invalid_request/signal' });
      // A real signal (and null, no signal) still plans.
      await expect(r.route('hi', { model: 'a', strategy: 'later', signal: new AbortController().signal })).resolves.toMatchObject({ selected: 'a' });
    } finally {
      await r.close();
    }
  });
});
