/**
 * Review of 071ade2: every cached call now hashes the canonical JSON of each member deployment's config
 * (`memberScopeName` -> `answerVersion` -> `canonicalJson`), shared deployments included. `options` is
 * `z.record(z.string(), z.unknown())`: a custom engine's options may hold an object canonicalJson cannot serialize
 * (a client with back-references, a BigInt). Such a config worked with the cache on before; now every cached call
 * fails, although neither the cache nor the call has anything to do with those options.
 */
import { describe, expect, it } from 'vitest';
import type { ModelConfig } from '../config/schema.js';
import { MockEngine } from '../engines/mock/mock-engine.js';
import { LLMRouter } from './llm-router.js';

/** A preconfigured client, as an SDK's: it refers back to itself (its agent knows its owner). */
function client(): Record<string, unknown> {
  const c: Record<string, unknown> = { name: 'sdk-client' };
  c['agent'] = { owner: c };
  return c;
}

describe('cache scope of a deployment whose engine options are not JSON', () => {
  it('a call with the exact cache on succeeds as it does with the cache off', async () => {
    const factory = (m: ModelConfig) => new MockEngine({ modelId: String((m.options['client'] as { name: string }).name), reply: 'ok' });
    const r = new LLMRouter(
      { models: [{ name: 'c', engine: 'custom', options: { client: client() } }], cache: { exact: { enabled: true } } },
      { engineFactories: { custom: factory } },
    );
    const off = await r.generate('hi', { cache: false });
    expect(off.text).toBe('ok');
    const on = await r.generate('hi').then(
      (x) => ({ text: x.text }),
      (e: { code: string; message: string }) => ({ code: e.code, message: e.message }),
    );
    expect(on).toEqual({ text: 'ok' });
    await r.close();
  });

  it("its answers are cached for the deployment object's lifetime: a hit within it, a miss after load() replaces it", async () => {
    let engines = 0;
    const factory = () => new MockEngine({ modelId: `engine-${++engines}`, reply: 'ok' });
    const config = () => ({ name: 'c', engine: 'custom', options: { client: client() } });
    const r = new LLMRouter({ models: [config()], cache: { exact: { enabled: true } } }, { engineFactories: { custom: factory } });
    const first = await r.generate('hi');
    const again = await r.generate('hi');
    expect([first.cached, first.model, again.cached, again.model]).toEqual([false, 'engine-1', 'exact', 'engine-1']);
    r.load(config());
    const reloaded = await r.generate('hi');
    expect([reloaded.cached, reloaded.model]).toEqual([false, 'engine-2']);
    expect((await r.generate('hi')).cached).toBe('exact');
    await r.close();
  });
});
