import { describe, expect, it } from 'vitest';
import { LLMError } from '../errors/llm-error.js';
import type { ModelConfig } from '../config/schema.js';
import { createOpenAICompatibleEngine } from '../engines/openai-compatible/index.js';
import type { EngineFactory } from '../engines/types.js';
import type { GenerateRequest, LanguageEngine } from '../spec/index.js';
import { collect, rejection } from '../test/async.test-helpers.js';
import { usePrimaryAndBackup } from '../test/wire-router.test-helpers.js';

// What an engine refuses before sending anything (`LanguageEngineV1.refusal`: an author name the `openai` preset
// refuses) makes no attempt: nothing is sent, nothing taken from the deployment's rpm (a shared deployment is not
// filled by one client's bad requests), the next deployment answers, and with none left the refusal is the error.

const wire = usePrimaryAndBackup();
const named = (name: string): GenerateRequest => ({ messages: [{ role: 'user', content: 'Hi', name }] });
const OPENAI = { preset: 'openai', limits: { rpm: 1 } };

describe('router: an engine refusal', () => {
  it('is no attempt: the rpm of the deployment is left for a request it takes (generate and stream)', async () => {
    const { router } = wire.router({}, {}, OPENAI);
    for (let i = 0; i < 3; i++) {
      const e = await rejection(router.generate(named('Dr Who'), { model: 'primary' }));
      expect(LLMError.isInstance(e) && { code: e.code, param: e.param }).toEqual({ code: 'unsupported', param: 'messages.0.name' });
      const parts = await collect(router.stream(named('Dr Who'), { model: 'primary' }));
      expect(parts.at(-1)).toMatchObject({ type: 'error', error: { code: 'unsupported', param: 'messages.0.name' } });
    }
    expect(wire.primary.requests).toHaveLength(0);
    expect((await router.generate(named('alice'), { model: 'primary' })).text).toBeTypeOf('string');
    expect(wire.primary.requests).toHaveLength(1);
    await router.close();
  });

  it('falls over to the next deployment, which takes the name', async () => {
    const { router } = wire.router({ fallbacks: { primary: ['backup'] } }, {}, OPENAI);
    const r = await router.generate(named('Dr Who'), { model: 'primary' });
    expect(r.text).toBe('from backup');
    expect(wire.primary.requests).toHaveLength(0);
    expect((wire.backup.requests.at(-1)!.body as { messages: Array<{ name?: string }> }).messages[0]!.name).toBe('Dr Who');
    await router.close();
  });
});

// An engine over the primary's wire (`openai-compatible`) with its own `refusal`; `calls` counts the factory's calls.
function refusingFactory(refusal: LanguageEngine['refusal'], fail?: (config: ModelConfig) => boolean): { factory: EngineFactory; calls: { n: number } } {
  const calls = { n: 0 };
  const factory: EngineFactory = (config, ctx) => {
    calls.n++;
    if (fail?.(config)) throw new Error('engine not available');
    const engine = createOpenAICompatibleEngine(config, ctx);
    return Object.assign(Object.create(engine) as LanguageEngine, { refusal });
  };
  return { factory, calls };
}

describe('router: an engine refusal that is not asked or fails', () => {
  it("that throws counts as no refusal: the attempt runs (generate and stream)", async () => {
    // A custom engine's refusal reading a field the request does not have.
    const { factory } = refusingFactory((r) => (r.tools!.length > 0 ? { param: 'tools', message: 'no tools' } : undefined));
    const { router } = wire.router({ fallbacks: { primary: ['backup'] } }, { engineFactories: { 'openai-compatible': factory } });
    expect((await router.generate(named('alice'), { model: 'primary' })).deployment).toBe('primary');
    const parts = await collect(router.stream(named('alice'), { model: 'primary' }));
    expect(parts.at(-1)).toMatchObject({ type: 'finish' });
    expect(wire.primary.requests).toHaveLength(2);
    await router.close();
  });

  it('is not asked for embed calls (their plan request is no chat request)', async () => {
    const { factory } = refusingFactory(() => ({ param: 'messages.0.content', message: 'refused' }));
    const { router } = wire.router({}, { engineFactories: { 'openai-compatible': factory } }, { capabilities: ['chat', 'embeddings'] });
    const r = await router.embed('Hi', { model: 'primary' });
    expect(r.embeddings).toHaveLength(1);
    expect(r.deployment).toBe('primary');
    await router.close();
  });

  it("leaves a failing engine factory called once per attempt, each attempt failing with its error", async () => {
    const { factory, calls } = refusingFactory(() => undefined, (config) => config.name === 'primary');
    const { router } = wire.router({ fallbacks: { primary: ['backup'] } }, { engineFactories: { 'openai-compatible': factory } });
    const r = await router.generate(named('alice'), { model: 'primary' });
    expect(r.text).toBe('from backup');
    const failed = r.attempts.filter((a) => a.deployment === 'primary');
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((a) => !a.ok)).toBe(true);
    // The backup's engine was created once; the primary's factory once per attempt on it.
    expect(calls.n - 1).toBe(failed.length);
    await router.close();
  });
});
