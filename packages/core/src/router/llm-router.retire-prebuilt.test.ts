/**
 * A deployment replaced by `load()` under the same name whose engine is a pre-built one (`RouterOptions.engines[name]`)
 * hands the same engine to its replacement (createDeployment: `factory = () => engine`): retiring the old one leaves
 * that engine open (the caller's), idle or busy, so the replacement still answers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { hasStoriesModel, storiesEngine } from '../engines/gguf/stories-model.test-helpers.js';
import { LLMRouter } from './llm-router.js';

const routers: LLMRouter[] = [];
afterEach(async () => {
  await Promise.all(routers.splice(0).map((r) => r.close()));
});

describe.skipIf(!hasStoriesModel)('a pre-built engine re-added by load() under the same name', { timeout: 90_000 }, () => {
  const local = { name: 'local', engine: 'gguf' as const, path: 'stories260K.gguf', options: { threads: 1 } };

  it('idle: the replacement still answers (the retired deployment must not close the engine it shares)', async () => {
    const engine = storiesEngine();
    const router = new LLMRouter({ models: [local] }, { engines: { local: engine } });
    routers.push(router);
    expect((await router.generate('Once upon a time', { maxTokens: 4 })).deployment).toBe('local');
    // The same config again (a config reload): the old deployment is retired, idle.
    expect(router.load(local)).toEqual(['local']);
    const after = await router.generate('Once upon a time', { maxTokens: 4 }).then(
      (r) => ({ ok: r.deployment }),
      (e: { code?: string; message?: string }) => ({ error: e.code, message: e.message }),
    );
    expect(after).toEqual({ ok: 'local' });
  });

  it('busy: a call in flight on the old deployment ends, then the replacement still answers ', async () => {
    const engine = storiesEngine();
    const router = new LLMRouter({ models: [local] }, { engines: { local: engine } });
    routers.push(router);
    expect((await router.generate('Once upon a time', { maxTokens: 2 })).deployment).toBe('local');
    const first = router.generate('Once upon a time', { maxTokens: 48 });
    // In flight on the old deployment when load() replaces it.
    await expect.poll(() => router.stats()['local']?.inFlight, { timeout: 10_000 }).toBe(1);
    router.load(local);
    expect((await first).deployment).toBe('local');
    const after = await router.generate('Once upon a time', { maxTokens: 4 }).then(
      (r) => ({ ok: r.deployment }),
      (e: { code?: string; message?: string }) => ({ error: e.code, message: e.message }),
    );
    expect(after).toEqual({ ok: 'local' });
  });
});
