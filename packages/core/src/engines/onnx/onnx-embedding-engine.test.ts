import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelConfigSchema, type ModelConfigInput } from '../../config/schema.js';
import { defaultEngineContext } from '../types.js';
import { randomMatrix, writeEmbeddingGraph } from './__fixtures__/onnx-graphs.js';
import { wordTokenizerJson, writeJson } from './__fixtures__/tokenizers.js';
import { createOnnxEngine } from './create-onnx-engine.js';
import { OnnxEmbeddingEngine } from './onnx-embedding-engine.js';
import { rejection } from '../../test/async.test-helpers.js';
import { LLMRouter } from '../../router/llm-router.js';

const WORDS = ['[PAD]', '[UNK]', 'the', 'cat', 'sat', 'on', 'a', 'mat'];
const V = WORDS.length;
const D = 6;
const E = randomMatrix(V, D, 21);
const TT = randomMatrix(2, D, 22);
const id = (w: string) => WORDS.indexOf(w);

let dir: string;

function engine(path: string, options: Record<string, unknown> = {}, extra: Partial<ModelConfigInput> = {}): OnnxEmbeddingEngine {
  const model = ModelConfigSchema.parse({ name: 'embedder', engine: 'onnx', path, capabilities: ['embeddings'], options, ...extra });
  const e = createOnnxEngine(model, defaultEngineContext({ baseDir: dir }));
  expect(e).toBeInstanceOf(OnnxEmbeddingEngine);
  return e as OnnxEmbeddingEngine;
}

/** Token vector as the test graph computes it: E[id] + TT[0]. */
const tokenVector = (w: string) => Array.from({ length: D }, (_, d) => E.data[id(w) * D + d]! + TT.data[d]!);
const mean = (vs: number[][]) => vs[0]!.map((_, d) => vs.reduce((acc, v) => acc + v[d]!, 0) / vs.length);
const normalize = (v: number[]) => {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};
const expectClose = (actual: number[] | undefined, expected: number[]) => {
  expect(actual).toHaveLength(expected.length);
  actual!.forEach((x, i) => expect(x).toBeCloseTo(expected[i]!, 5));
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'llmrr-onnx-embed-'));
  writeJson(join(dir, 'tokenizer.json'), wordTokenizerJson(WORDS, ['[PAD]', '[UNK]']));
  writeEmbeddingGraph(join(dir, 'embed.onnx'), { embed: E, tokenTypes: TT });
  writeEmbeddingGraph(join(dir, 'sentence.onnx'), { embed: E, output: 'sentence_embedding' });
  writeEmbeddingGraph(join(dir, 'odd.onnx'), { embed: E, output: 'something_else' });
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('onnx embedding engine', () => {
  it('mean-pools over the attention mask and L2-normalizes', async () => {
    const e = engine('embed.onnx');
    const r = await e.embed(['the cat', 'the cat sat on a mat']);
    expect(r.embeddings).toHaveLength(2);
    for (const v of r.embeddings) {
      expect(v).toHaveLength(D);
      expect(Math.hypot(...v)).toBeCloseTo(1, 6);
    }
    // Row 0 was padded to 6 tokens in the batch; padding does not count.
    expectClose(r.embeddings[0], normalize(mean([tokenVector('the'), tokenVector('cat')])));
    expectClose(r.embeddings[1], normalize(mean(['the', 'cat', 'sat', 'on', 'a', 'mat'].map(tokenVector))));
    expectClose((await e.embed(['the cat'])).embeddings[0], r.embeddings[0]!);
    expect(r.usage).toEqual({ inputTokens: 8, outputTokens: 0, totalTokens: 8 });
    expect(e.capabilities).toEqual({ embeddings: true });
    expect(e.price).toEqual({ input: 0, output: 0 });
    await e.close();
  });

  it('a user is not used (a local engine has no provider to tell): the same vectors, with a setting_not_sent warning', async () => {
    const e = engine('embed.onnx');
    const r = await e.embed(['the cat'], { user: 'end-user-1' });
    expect(r.embeddings).toEqual((await e.embed(['the cat'])).embeddings);
    expect(r.warnings).toEqual([{ code: 'setting_not_sent', field: 'user', message: 'user was not used: the onnx engine is local (no provider to tell).' }]);
  });

  it('gives the same vectors batch by batch', async () => {
    const texts = ['the cat', 'a mat', 'the cat sat on a mat', 'sat'];
    const all = engine('embed.onnx');
    const oneByOne = engine('embed.onnx', { batchSize: 1 });
    const [a, b] = await Promise.all([all.embed(texts), oneByOne.embed(texts)]);
    a.embeddings.forEach((v, i) => expectClose(b.embeddings[i], v));
    await Promise.all([all.close(), oneByOne.close()]);
  });

  it('supports cls pooling and unnormalized vectors', async () => {
    const cls = engine('embed.onnx', { pooling: 'cls' });
    expectClose((await cls.embed(['the cat'])).embeddings[0], normalize(tokenVector('the')));
    const raw = engine('embed.onnx', { normalize: false });
    expectClose((await raw.embed(['the cat'])).embeddings[0], mean([tokenVector('the'), tokenVector('cat')]));
    await Promise.all([cls.close(), raw.close()]);
  });

  it('uses a sentence_embedding output as the graph pooled it', async () => {
    const e = engine('sentence.onnx');
    const r = await e.embed(['the cat sat']);
    const plain = (w: string) => Array.from({ length: D }, (_, d) => E.data[id(w) * D + d]!);
    expectClose(r.embeddings[0], normalize(mean(['the', 'cat', 'sat'].map(plain))));
    await e.close();
  });

  it('reads a differently named output when told, and names what is missing otherwise', async () => {
    const missing = await rejection(engine('odd.onnx').embed(['the']));
    expect(missing.code).toBe('config_invalid');
    expect(missing.message).toContain('missing an embedding output (one of "sentence_embedding", "last_hidden_state", "token_embeddings")');
    expect(missing.message).toContain('its outputs: something_else');
    const named = engine('odd.onnx', { output: 'something_else' });
    expect((await named.embed(['the'])).embeddings[0]).toHaveLength(D);
    const wrong = await rejection(engine('odd.onnx', { output: 'nope' }).embed(['the']));
    expect(wrong.message).toContain('missing output "nope" (options.output)');
    await named.close();
  });

  it('is chosen by task or capabilities, and cannot generate', async () => {
    const byTask = createOnnxEngine(ModelConfigSchema.parse({ name: 'x', engine: 'onnx', path: 'embed.onnx', options: { task: 'embed' } }), defaultEngineContext({ baseDir: dir }));
    expect(byTask).toBeInstanceOf(OnnxEmbeddingEngine);
    const e = engine('embed.onnx');
    const err = await rejection(e.generate());
    expect(err.code).toBe('unsupported');
    const parts = [];
    for await (const p of e.stream()) parts.push(p);
    expect(parts).toEqual([{ type: 'error', error: expect.objectContaining({ code: 'unsupported' }) }]);
  });

  it('refuses empty input, over-long input, and aborted calls', async () => {
    const e = engine('embed.onnx', { contextSize: 3 });
    expect(await rejection(e.embed([]))).toMatchObject({ code: 'invalid_request', param: 'input' });
    expect(await rejection(e.embed(['the', 'the cat sat on']))).toMatchObject({ code: 'context_length_exceeded', param: 'input.1' });
    const aborted = new AbortController();
    aborted.abort();
    expect((await rejection(e.embed(['the'], { signal: aborted.signal }))).code).toBe('aborted');
    await e.close();
    expect((await rejection(e.embed(['the']))).code).toBe('shutting_down');
  });

  it('has a fixed vector length and its own tokenizer: dimensions and token ids are refused, by the engine and the router', async () => {
    const e = engine('embed.onnx');
    expect(['embedDimensions' in e, 'embedTokens' in e]).toEqual([false, false]);
    expect(await rejection(e.embed(['the cat'], { dimensions: 3 }))).toMatchObject({ code: 'unsupported', param: 'dimensions' });
    const router = new LLMRouter({ models: [{ name: 'embedder', engine: 'onnx', path: 'embed.onnx', capabilities: ['embeddings'] }] }, { baseDir: dir });
    try {
      expect((await router.embed(['the cat'])).embeddings[0]).toHaveLength(D);
      const dims = await rejection(router.embed(['the cat'], { dimensions: 3 }));
      expect([dims.code, dims.statusCode, dims.param]).toEqual(['unsupported', 400, 'dimensions']);
      expect(dims.message).toContain(`embedder: engine "onnx" cannot set the vectors' dimensions`);
      const tokens = await rejection(router.embed([[2, 3]]));
      expect([tokens.code, tokens.statusCode, tokens.param]).toEqual(['unsupported', 400, 'input']);
      expect(tokens.message).toContain('check_embedding_ctx_length=False');
    } finally {
      await router.close();
    }
  });
});
