import { afterEach, describe, expect, it } from 'vitest';
import { ModelConfigSchema } from '../config/schema.js';
import { LLMError } from '../errors/llm-error.js';
import { MockEngine } from './mock/mock-engine.js';
import { createEngine, hasEngine, registerEngine, registeredEngines, unregisterEngine } from './registry.js';
import { defaultEngineContext } from './types.js';

const ctx = defaultEngineContext({ env: {} });

describe('engine registry', () => {
  afterEach(() => {
    unregisterEngine('custom-test');
  });

  it('has mock registered and creates it', () => {
    expect(hasEngine('mock')).toBe(true);
    const engine = createEngine(ModelConfigSchema.parse({ name: 'm', engine: 'mock', options: { reply: 'hi' } }), ctx);
    expect(engine).toBeInstanceOf(MockEngine);
    expect(engine.modelId).toBe('m');
  });

  it('unknown engine: config_invalid naming the model and the engine', () => {
    try {
      createEngine(ModelConfigSchema.parse({ name: 'my-model', engine: 'nope' }), ctx);
      expect.fail('should throw');
    } catch (e) {
      expect(LLMError.isInstance(e)).toBe(true);
      const err = e as LLMError;
      expect(err.code).toBe('config_invalid');
      expect(err.message).toContain('"my-model"');
      expect(err.message).toContain('"nope"');
      expect(err.deployment).toBe('my-model');
    }
  });

  it('registerEngine adds a factory that receives config and context', () => {
    let seen: string | undefined;
    registerEngine('custom-test', (model, c) => {
      seen = `${model.name}:${c.baseDir}`;
      return new MockEngine({ modelId: 'custom' });
    });
    expect(registeredEngines()).toContain('custom-test');
    const engine = createEngine(ModelConfigSchema.parse({ name: 'x', engine: 'custom-test' }), { ...ctx, baseDir: '/models' });
    expect(engine.modelId).toBe('custom');
    expect(seen).toBe('x:/models');
  });

  it('per-call extra factories win over the registry', () => {
    const engine = createEngine(ModelConfigSchema.parse({ name: 'x', engine: 'mock' }), ctx, { mock: () => new MockEngine({ modelId: 'extra' }) });
    expect(engine.modelId).toBe('extra');
  });

  it('rejects bad registrations', () => {
    expect(() => registerEngine('', () => new MockEngine())).toThrow(/non-empty/);
    expect(() => registerEngine('x', 'nope' as never)).toThrow(/function/);
  });
});
