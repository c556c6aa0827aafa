/**
 * `routing.options` of a built-in strategy name are checked by the built-in when the router is built: a replacement
 * with options of its own convention comes with the constructor's `strategies` (then the built-in never sees them);
 * `addStrategy` after construction is too late, and the router says which option it refused (docs/core/router.md).
 */
import { describe, expect, it } from 'vitest';
import { LLMRouter } from '../llm-router.js';

const models = [{ name: 'a', engine: 'mock' as const }, { name: 'b', engine: 'mock' as const }];

describe('routing.options of a built-in name replaced later with addStrategy', () => {
  it("a replacement given to the constructor ranks with its options; added later, the config was already refused, naming the option", async () => {
    // Options meant for the replacement (a share in percent, its own convention), not for the built-in.
    const config = { models, routing: { strategy: 'intelligent', options: { intelligent: { strongShare: 30 } } } };
    const custom = (ctx: { candidates: Array<{ name: string }>; options: Record<string, unknown> }) =>
      ctx.candidates.map((deployment) => ({ deployment, score: ctx.options['strongShare'] === 30 ? 1 : 0 }));

    const viaConstructor = new LLMRouter(config, { strategies: { intelligent: custom as never } });
    expect((await viaConstructor.generate('hi')).deployment).toBe('a');
    await viaConstructor.close();

    expect(() => new LLMRouter(config)).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'routing.options.intelligent.strongShare' }));
  });
});
