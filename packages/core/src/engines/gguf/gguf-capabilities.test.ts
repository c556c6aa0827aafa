/**
 * What a `gguf` deployment offers the router, known from its config: chat, streaming, json and completion,
 * without loading the model file (the router never creates the engine to find out).
 */
import { describe, expect, it } from 'vitest';
import { ModelConfigSchema } from '../../config/schema.js';
import { LLMRouter } from '../../router/llm-router.js';
import type { EngineFactory } from '../types.js';
import { createGgufEngine } from './gguf-engine.js';

describe('gguf capabilities from the config', () => {
  it('chat, streaming, json and completion', () => {
    expect(createGgufEngine.capabilities(ModelConfigSchema.parse({ name: 'g', engine: 'gguf', path: 'm.gguf' }))).toEqual(['chat', 'streaming', 'json', 'completion']);
  });

  it('the router plans with them without creating the engine; not offered for embeddings or tools; configured capabilities win', async () => {
    let created = 0;
    const factory: EngineFactory = Object.assign(
      (model: Parameters<EngineFactory>[0], ctx: Parameters<EngineFactory>[1]) => {
        created++;
        return createGgufEngine(model, ctx);
      },
      { capabilities: createGgufEngine.capabilities },
    );
    const router = new LLMRouter(
      {
        models: [
          { name: 'local', engine: 'gguf', path: 'missing.gguf', priority: 1 },
          { name: 'emb', engine: 'mock', priority: 2, capabilities: ['embeddings'] },
          { name: 'tooled', engine: 'gguf', path: 'missing.gguf', priority: 3, capabilities: ['chat', 'tools'] },
        ],
        routing: { strategy: 'priority' },
      },
      { engineFactories: { gguf: factory }, env: {} },
    );
    try {
      expect(router.models().find((m) => m.name === 'local')?.capabilities).toEqual(['chat', 'streaming', 'json', 'completion']);
      expect(router.models().find((m) => m.name === 'tooled')?.capabilities).toEqual(['chat', 'tools']);
      expect((await router.route('hi', { stream: true })).order).toEqual(['local']);
      expect((await router.route('hi', { responseFormat: { type: 'json_object' } })).selected).toBe('local');
      const tools = await router.route('hi', { tools: [{ name: 'f', parameters: { type: 'object' } }] });
      expect(tools.order).toEqual(['tooled']);
      expect(created).toBe(0);
    } finally {
      await router.close();
    }
  });
});
