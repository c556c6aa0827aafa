/**
 * What an `onnx` deployment offers the router, known from its config: an embedding model (`task: 'embed'`)
 * embeds only, even without `capabilities` in the config, and the router needs not create its engine to know.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelConfigSchema, type ModelConfigInput } from '../../config/schema.js';
import { LLMRouter } from '../../router/llm-router.js';
import { collect, rejection } from '../../test/async.test-helpers.js';
import type { EngineFactory } from '../types.js';
import { randomMatrix, writeEmbeddingGraph } from './__fixtures__/onnx-graphs.js';
import { wordTokenizerJson, writeJson } from './__fixtures__/tokenizers.js';
import { createOnnxEngine } from './create-onnx-engine.js';

const WORDS = ['[PAD]', '[UNK]', 'the', 'cat', 'sat'];
const caps = (m: ModelConfigInput) => createOnnxEngine.capabilities(ModelConfigSchema.parse(m));

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'llmrr-onnx-caps-'));
  writeJson(join(dir, 'tokenizer.json'), wordTokenizerJson(WORDS, ['[PAD]', '[UNK]']));
  writeEmbeddingGraph(join(dir, 'embed.onnx'), { embed: randomMatrix(WORDS.length, 4, 7) });
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The onnx factory, counting the engines it creates. */
function countingFactory(): { factory: EngineFactory; created: () => number } {
  let n = 0;
  const factory: EngineFactory = Object.assign((model: Parameters<EngineFactory>[0], ctx: Parameters<EngineFactory>[1]) => {
    n++;
    return createOnnxEngine(model, ctx);
  }, { capabilities: createOnnxEngine.capabilities });
  return { factory, created: () => n };
}

const models: ModelConfigInput[] = [
  { name: 'onnx-embed', engine: 'onnx', path: 'embed.onnx', priority: 1, options: { task: 'embed' } },
  { name: 'chat', engine: 'mock', priority: 2 },
];

describe('onnx capabilities from the config', () => {
  it('embeddings only for task embed (or capabilities listing embeddings); chat, completion and streaming otherwise', () => {
    expect(caps({ name: 'e', engine: 'onnx', path: 'm.onnx', options: { task: 'embed' } })).toEqual(['embeddings']);
    expect(caps({ name: 'e', engine: 'onnx', path: 'm.onnx', capabilities: ['embeddings'] })).toEqual(['embeddings']);
    expect(caps({ name: 'g', engine: 'onnx', path: 'm.onnx' })).toEqual(['chat', 'completion', 'streaming']);
    expect(caps({ name: 'g', engine: 'onnx', path: 'm.onnx', options: { task: 'generate' } })).toEqual(['chat', 'completion', 'streaming']);
    // Invalid options: unknown here; creating the engine reports them.
    expect(caps({ name: 'x', engine: 'onnx', path: 'm.onnx', options: { task: 'translate' } })).toBeUndefined();
  });

  it('an embedding deployment without configured capabilities is never offered for generate or stream', async () => {
    const router = new LLMRouter({ models, routing: { strategy: 'priority' } }, { baseDir: dir, env: {} });
    try {
      const r = await router.generate('the cat', { explain: true });
      expect(r.deployment).toBe('chat');
      expect(r.decision?.excluded).toEqual([{ name: 'onnx-embed', reason: 'an embedding model (engine "onnx" declares embeddings but not chat or completion for it)', kind: 'unfit' }]);
      const parts = await collect(router.stream('the cat'));
      expect(parts[0]).toMatchObject({ type: 'route', deployment: 'chat' });
      expect(await rejection(router.generate('the cat', { model: 'onnx-embed' }))).toMatchObject({ code: 'unsupported', statusCode: 400, param: 'model' });
      expect(router.models().find((m) => m.name === 'onnx-embed')?.capabilities).toEqual(['embeddings']);
      // It still embeds, on the real graph.
      const e = await router.embed(['the cat', 'sat']);
      expect(e.deployment).toBe('onnx-embed');
      expect(e.embeddings.map((v) => v.length)).toEqual([4, 4]);
    } finally {
      await router.close();
    }
  });

  it('the router knows this without creating the engine (it is created for the first embed only)', async () => {
    const { factory, created } = countingFactory();
    const router = new LLMRouter({ models, routing: { strategy: 'priority' } }, { baseDir: dir, env: {}, engineFactories: { onnx: factory } });
    try {
      await router.generate('the cat', { requiredCapabilities: ['chat'] });
      await router.route('the cat', { stream: true });
      router.models();
      expect(created()).toBe(0);
      await router.embed('the cat');
      expect(created()).toBe(1);
    } finally {
      await router.close();
    }
  });

  it('configured capabilities still win', async () => {
    const router = new LLMRouter(
      { models: [{ name: 'onnx-embed', engine: 'onnx', path: 'embed.onnx', options: { task: 'embed' }, capabilities: ['embeddings', 'chat'] }], routing: { strategy: 'priority' } },
      { baseDir: dir, env: {} },
    );
    try {
      expect(router.models()[0]?.capabilities).toEqual(['embeddings', 'chat']);
      expect((await router.route('x')).selected).toBe('onnx-embed');
    } finally {
      await router.close();
    }
  });
});
