/**
 * Review of 071ade2: the cache scope (`cacheMembers`) now throws `model_not_found` before planning runs, so a call that
 * planning would refuse for another reason first (an unknown `strategy`) gets a different error with the cache on than
 * with it off.
 */
import { describe, expect, it } from 'vitest';
import { rejection } from '../test/async.test-helpers.js';
import { LLMRouter } from './llm-router.js';

describe('errors with the cache on are those planning gives', () => {
  it('an unknown strategy with an answer cached for the request: refused as with the cache off, not served', async () => {
    const r = new LLMRouter({ models: [{ name: 'a', engine: 'mock' }], cache: { exact: { enabled: true } } });
    const first = await r.generate('cached question');
    expect(first.cached).toBe(false);
    expect((await r.generate('cached question')).cached).toBe('exact');
    const e = await rejection(r.generate('cached question', { strategy: 'no-such-strategy' }));
    expect({ code: e.code, param: e.param }).toEqual({ code: 'invalid_request', param: 'strategy' });
    let part: { code: string; param: string | undefined } | undefined;
    for await (const p of r.stream('cached question', { strategy: 'no-such-strategy' })) {
      if (p.type === 'error') part = { code: p.error.code, param: p.error.param };
      if (p.type === 'finish') part = undefined;
    }
    expect(part).toEqual({ code: 'invalid_request', param: 'strategy' });
    await r.close();
  });

  it('an unknown strategy and an unknown model: the same error whether the exact cache is on or off', async () => {
    const r = new LLMRouter({ models: [{ name: 'a', engine: 'mock' }], cache: { exact: { enabled: true } } });
    const off = await rejection(r.generate('hi', { model: 'nope', strategy: 'no-such-strategy', cache: false }));
    const on = await rejection(r.generate('hi', { model: 'nope', strategy: 'no-such-strategy' }));
    expect({ code: off.code, param: off.param }).toEqual({ code: 'invalid_request', param: 'strategy' });
    expect({ code: on.code, param: on.param }).toEqual({ code: off.code, param: off.param });
    await r.close();
  });

  it('the same for a stream: its error part matches the one planning gives', async () => {
    const r = new LLMRouter({ models: [{ name: 'a', engine: 'mock' }], cache: { exact: { enabled: true } } });
    const errorOf = async (cache: boolean | undefined) => {
      const s = r.stream('hi', { model: 'nope', strategy: 'no-such-strategy', ...(cache === false ? { cache: false } : {}) });
      for await (const part of s) if (part.type === 'error') return { code: part.error.code, param: part.error.param };
      return undefined;
    };
    const off = await errorOf(false);
    const on = await errorOf(undefined);
    expect(off).toEqual({ code: 'invalid_request', param: 'strategy' });
    expect(on).toEqual(off);
    await r.close();
  });

  it('a stream for an unknown model while the price file failed to load: the error generate gives (config_invalid)', async () => {
    const r = new LLMRouter({ models: [{ name: 'a', engine: 'mock' }], cache: { exact: { enabled: true } } }, { env: { LLMRR_PRICES_FILE: '/nonexistent/llmrr-review-prices.json' } });
    const viaGenerate = await rejection(r.generate('hi', { model: 'nope' }));
    let viaStream: { code: string; param: string | undefined } | undefined;
    for await (const part of r.stream('hi', { model: 'nope' })) if (part.type === 'error') viaStream = { code: part.error.code, param: part.error.param };
    expect(viaGenerate.code).toBe('config_invalid');
    expect(viaStream).toEqual({ code: viaGenerate.code, param: viaGenerate.param });
    await r.close();
  });
});
