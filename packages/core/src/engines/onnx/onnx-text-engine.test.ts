import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ModelConfigSchema } from '../../config/schema.js';
import { LLMError } from '../../errors/llm-error.js';
import type { GenerateRequest, StreamPart } from '../../spec/index.js';
import { defaultEngineContext } from '../types.js';
import { randomMatrix, sparseMatrix, writeDecoderGraph, type Matrix } from './__fixtures__/onnx-graphs.js';
import { CHAIN_NEXT, CHAIN_WORDS, nextWordMatrix, writeByteChainModel, writeWordsTokenizer } from './__fixtures__/tiny-models.js';
import { wordTokenizerJson, writeJson } from './__fixtures__/tokenizers.js';
import { createOnnxEngine } from './create-onnx-engine.js';
import { OnnxTextEngine } from './onnx-text-engine.js';
import { collect, rejection } from '../../test/async.test-helpers.js';

const WORDS = [...CHAIN_WORDS, 'dog', 'ran', 'away'];
const V = WORDS.length;
const id = (w: string) => WORDS.indexOf(w);
/** The chain the test graph follows greedily: the -> cat -> sat -> on -> a -> mat -> </s>; dog -> ran -> away -> dog ... */
const NEXT: Array<readonly [string, string]> = [
  ...CHAIN_NEXT,
  ['dog', 'ran'],
  ['ran', 'away'],
  ['away', 'dog'],
];

let dir: string;
const ctx = () => defaultEngineContext({ baseDir: dir });

function engine(path: string, options: Record<string, unknown> = {}): OnnxTextEngine {
  const model = ModelConfigSchema.parse({ name: 'tiny', engine: 'onnx', path, options: { tokenizer: 'words/tokenizer.json', ...options } });
  const e = createOnnxEngine(model, ctx());
  expect(e).toBeInstanceOf(OnnxTextEngine);
  return e as OnnxTextEngine;
}

const prompt = (text: string, extra: Partial<GenerateRequest> = {}): GenerateRequest => ({ messages: [{ role: 'user', content: text }], ...extra });

const deltasOf = (parts: StreamPart[]) => parts.flatMap((p) => (p.type === 'text-delta' ? [p.delta] : []));

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'llmrr-onnx-'));
  writeWordsTokenizer(dir, WORDS);
  writeByteChainModel(dir); // 'a' -> 0xC3 -> 0xA9 -> '!' -> <|endoftext|> ("\u00e9" is two byte tokens)
  const identity = sparseMatrix(V, V, [], 0);
  for (let i = 0; i < V; i++) identity.data[i * V + i] = 1;
  const chain = nextWordMatrix(WORDS, NEXT);
  writeDecoderGraph(join(dir, 'chain.onnx'), { embed: chain });
  writeDecoderGraph(join(dir, 'chain-int32.onnx'), { embed: chain, idType: 'int32', attentionMask: false });
  // Position-driven: the word at position p is POSITION_WORDS[p] whatever the token.
  writeDecoderGraph(join(dir, 'positions.onnx'), {
    embed: identity,
    positions: sparseMatrix(16, V, POSITION_WORDS.map((w, p) => [p, id(w)])),
  });
  writeDecoderGraph(join(dir, 'random.onnx'), { embed: RANDOM_E, proj: RANDOM_W, positions: NO_SPECIALS });
  writeDecoderGraph(join(dir, 'no-logits.onnx'), { embed: chain, logitsName: 'scores' });
  writeDecoderGraph(join(dir, 'no-ids.onnx'), { embed: chain, idsName: 'tokens' });
  writeDecoderGraph(join(dir, 'kv.onnx'), { embed: chain, extraInputs: ['past_key_values.0.key', 'past_key_values.0.value'] });
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const POSITION_WORDS = ['the', 'cat', 'sat', 'on', 'a', 'mat', 'dog', 'ran', 'away', 'the', 'cat', 'sat', 'on', 'a', 'mat', '</s>'];
const RANDOM_E: Matrix = randomMatrix(V, 8, 7);
const RANDOM_W: Matrix = randomMatrix(8, V, 11);
/** Added at every position: keeps [PAD], [UNK] and </s> from winning, so the random graph always says words. */
const NO_SPECIALS: Matrix = sparseMatrix(64, V, Array.from({ length: 64 }, (_, p) => [0, 1, 2].map((v): [number, number] => [p, v])).flat(), -100);

/** Reference for the random graph: logits of the last token = E[token] @ W. */
function referenceGreedy(promptIds: number[], steps: number, eos: number): number[] {
  const out: number[] = [];
  let last = promptIds[promptIds.length - 1]!;
  for (let s = 0; s < steps; s++) {
    let best = 0;
    let bestScore = -Infinity;
    for (let v = 0; v < V; v++) {
      let score = 0;
      for (let d = 0; d < 8; d++) score += RANDOM_E.data[last * 8 + d]! * RANDOM_W.data[d * V + v]!;
      score += NO_SPECIALS.data[v]!;
      if (score > bestScore) {
        bestScore = score;
        best = v;
      }
    }
    out.push(best);
    if (best === eos) break;
    last = best;
  }
  return out;
}

describe('onnx text generation engine', () => {
  it('follows the graph greedily and stops at the eos token', async () => {
    const e = engine('chain.onnx');
    const r = await e.generate(prompt('The'));
    expect(r.text).toBe('cat sat on a mat');
    expect(r.finishReason).toBe('stop');
    // 1 prompt token; 5 words + the eos token sampled.
    expect(r.usage).toEqual({ inputTokens: 1, outputTokens: 6, totalTokens: 7 });
    expect(r.toolCalls).toEqual([]);
    expect(e.capabilities).toEqual({ streaming: true });
    expect(e.price).toEqual({ input: 0, output: 0 });
    await e.close();
  });

  it('stops at maxTokens with finish reason length', async () => {
    const e = engine('chain.onnx');
    const r = await e.generate(prompt('dog', { maxTokens: 5 }));
    expect(r.text).toBe('ran away dog ran away');
    expect(r.finishReason).toBe('length');
    expect(r.usage.outputTokens).toBe(5);
    // The options' default maxTokens applies when the request has none.
    const capped = engine('chain.onnx', { maxTokens: 2 });
    expect((await capped.generate(prompt('dog'))).text).toBe('ran away');
    await Promise.all([e.close(), capped.close()]);
  });

  it('streams one token per step; the parts concatenate to the text', async () => {
    const e = engine('chain.onnx');
    const parts = await collect(e.stream(prompt('the cat')));
    expect(parts[0]).toEqual({ type: 'response-metadata', model: 'tiny' });
    expect(deltasOf(parts)).toEqual(['sat', ' on', ' a', ' mat']);
    expect(parts.at(-1)).toEqual({ type: 'finish', finishReason: 'stop', usage: { inputTokens: 2, outputTokens: 5, totalTokens: 7 } });
    expect(deltasOf(parts).join('')).toBe((await e.generate(prompt('the cat'))).text);
    await e.close();
  });

  it('feeds position_ids 0..n-1 and reads the logits of the last position', async () => {
    const e = engine('positions.onnx');
    // Prompt has 2 tokens (positions 0, 1): generation reads position 1, then 2, 3, ...
    const r = await e.generate(prompt('dog dog', { maxTokens: 4 }));
    expect(r.text).toBe(POSITION_WORDS.slice(1, 5).join(' '));
    await e.close();
  });

  it('matches a reference computation on a random-weight graph', async () => {
    const e = engine('random.onnx');
    const promptIds = [id('the'), id('dog')];
    const r = await e.generate(prompt('the dog', { maxTokens: 6 }));
    const expected = referenceGreedy(promptIds, 6, id('</s>'));
    expect(expected).toHaveLength(6);
    expect(r.finishReason).toBe('length');
    expect(r.text).toBe(expected.map((t) => WORDS[t]).join(' '));
    await e.close();
  });

  it('samples with temperature/topP reproducibly for a seed', async () => {
    const e = engine('random.onnx');
    const req = prompt('the dog', { maxTokens: 8, temperature: 1.5, seed: 3 });
    const a = await e.generate(req);
    const b = await e.generate(req);
    expect(a.text).toBe(b.text);
    const others = await Promise.all([4, 5, 6, 7, 8].map((seed) => e.generate({ ...req, seed })));
    expect(others.some((o) => o.text !== a.text)).toBe(true);
    // A tiny nucleus keeps only the most likely token: the same as greedy.
    const nucleus = await e.generate(prompt('the dog', { maxTokens: 6, temperature: 1, topP: 1e-6, seed: 9 }));
    expect(nucleus.text).toBe((await e.generate(prompt('the dog', { maxTokens: 6 }))).text);
    await e.close();
  });

  it('honours stop sequences without streaming them', async () => {
    const e = engine('chain.onnx');
    const parts = await collect(e.stream(prompt('the', { stop: [' on'] })));
    expect(deltasOf(parts).join('')).toBe('cat sat');
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop', stopSequence: ' on' });
    // The finish part says which stop ended the answer; an answer that ends otherwise names none.
    expect((await e.generate(prompt('the', { stop: ['never', ' sat'] }))).stopSequence).toBe(' sat');
    expect((await e.generate(prompt('the', { stop: ['never'] }))).stopSequence).toBeUndefined();
    await e.close();
  });

  it('uses options.eosTokenId over the tokenizer', async () => {
    const e = engine('chain.onnx', { eosTokenId: id('on') });
    const r = await e.generate(prompt('the'));
    expect(r.text).toBe('cat sat');
    expect(r.finishReason).toBe('stop');
    await e.close();
  });

  it('streams multi-byte characters whole with a byte-level BPE tokenizer (eos from tokenizer_config.json)', async () => {
    const model = ModelConfigSchema.parse({ name: 'bytes', engine: 'onnx', path: 'bytes/model.onnx' });
    const e = createOnnxEngine(model, ctx()) as OnnxTextEngine;
    const parts = await collect(e.stream(prompt('a')));
    const deltas = deltasOf(parts);
    expect(deltas).toEqual(['é', '!']);
    expect(deltas.join('')).not.toContain('\uFFFD');
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 4 } });
    await e.close();
  });

  it('accepts int32 id inputs and graphs without attention_mask', async () => {
    const e = engine('chain-int32.onnx');
    expect((await e.generate(prompt('the'))).text).toBe('cat sat on a mat');
    await e.close();
  });

  it('stops at the end of the context and refuses prompts that do not fit', async () => {
    const e = engine('chain.onnx', { contextSize: 4 });
    const r = await e.generate(prompt('dog', { maxTokens: 100 }));
    expect(r.text).toBe('ran away dog');
    expect(r.finishReason).toBe('length');
    const err = await rejection(e.generate(prompt('the cat sat on')));
    expect(err).toMatchObject({ code: 'context_length_exceeded', param: 'messages' });
    await e.close();
  });

  it('aborts between steps, reports usage so far and the aborted error', async () => {
    const e = engine('chain.onnx', { contextSize: 4096 });
    const controller = new AbortController();
    const parts: StreamPart[] = [];
    for await (const p of e.stream(prompt('dog', { maxTokens: 4000 }), { signal: controller.signal })) {
      parts.push(p);
      if (deltasOf(parts).length === 3 && p.type === 'text-delta') controller.abort();
    }
    expect(deltasOf(parts)).toHaveLength(3);
    expect(parts.at(-2)).toEqual({ type: 'usage', usage: { inputTokens: 1, outputTokens: 3, totalTokens: 4 } });
    expect(parts.at(-1)).toMatchObject({ type: 'error', error: { code: 'aborted' } });
    const before = new AbortController();
    before.abort();
    expect((await rejection(e.generate(prompt('dog'), { signal: before.signal }))).code).toBe('aborted');
    await e.close();
  });

  it('runs concurrent requests independently, loading the graph once', async () => {
    const e = engine('chain.onnx');
    const load = vi.spyOn((e as unknown as { loader: { load(): Promise<unknown> } }).loader, 'load');
    const [a, b] = await Promise.all([e.generate(prompt('the')), e.generate(prompt('dog', { maxTokens: 4 }))]);
    expect(a.text).toBe('cat sat on a mat');
    expect(b.text).toBe('ran away dog ran');
    expect(load).toHaveBeenCalledTimes(1);
    await e.close();
  });

  it('counts tokens exactly with the tokenizer', async () => {
    const e = engine('chain.onnx');
    expect(await e.countTokens(prompt('the cat sat on a mat'))).toBe(6);
    expect(await e.countTokens({ messages: [{ role: 'system', content: 'a dog' }, { role: 'user', content: 'the cat' }] })).toBe(4);
    // A message's text parts are joined by newlines, not run together ("thecat" would be one unknown word).
    const parts = { messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'the' }, { type: 'text' as const, text: 'cat' }] }] };
    expect(await e.countTokens(parts)).toBe(2);
    expect((await e.generate(parts)).text).toBe((await e.generate(prompt('the cat'))).text);
    await e.close();
  });

  it('names what a graph lacks', async () => {
    const noLogits = await rejection(engine('no-logits.onnx').generate(prompt('the')));
    expect(noLogits.code).toBe('config_invalid');
    expect(noLogits.message).toContain('missing output "logits" [batch, seq, vocab]');
    expect(noLogits.message).toContain('its outputs: scores');
    const noIds = await rejection(engine('no-ids.onnx').generate(prompt('the')));
    expect(noIds.message).toContain('missing input "input_ids"');
    expect(noIds.message).toContain('inputs the engine cannot feed: "tokens"');
    const kv = await rejection(engine('kv.onnx').generate(prompt('the')));
    expect(kv.message).toMatch(/KV cache \(past_key_values\.0\.key, past_key_values\.0\.value\) are not supported/);
    expect(kv.deployment).toBe('tiny');
  });

  it('gives clear errors for missing files, bad tokenizers and bad options', async () => {
    const missing = await rejection(engine('nope.onnx').generate(prompt('the')));
    expect(missing).toMatchObject({ code: 'config_invalid', param: 'path' });
    expect(missing.message).toContain(join(dir, 'nope.onnx'));
    const noTokenizer = await rejection(engine('chain.onnx', { tokenizer: 'missing/tokenizer.json' }).generate(prompt('the')));
    expect(noTokenizer).toMatchObject({ code: 'config_invalid', param: 'options.tokenizer' });
    expect(noTokenizer.message).toContain(join(dir, 'missing', 'tokenizer.json'));
    writeJson(join(dir, 'bad-tokenizer.json'), { ...wordTokenizerJson(WORDS, []), model: { type: 'Mystery' } });
    const badType = await rejection(engine('chain.onnx', { tokenizer: 'bad-tokenizer.json' }).generate(prompt('the')));
    expect(badType.message).toMatch(/model type "Mystery".*Supported model types: BPE, WordPiece, Unigram/);
    expect(() => engine('chain.onnx', { task: 'classify' })).toThrow(LLMError);
    expect(() => engine('chain.onnx', { temperatur: 1 })).toThrow(/options\.temperatur/);
    const noPath = ModelConfigSchema.parse({ name: 'x', engine: 'onnx' });
    expect(() => createOnnxEngine(noPath, ctx())).toThrow(/path is required/);
  });

  it('refuses tools, JSON mode and images', async () => {
    const e = engine('chain.onnx');
    expect(await rejection(e.generate(prompt('the', { tools: [{ name: 'f', parameters: {} }] })))).toMatchObject({ code: 'unsupported', param: 'tools' });
    expect(await rejection(e.generate(prompt('the', { responseFormat: { type: 'json_object' } })))).toMatchObject({ code: 'unsupported', param: 'responseFormat' });
    const image: GenerateRequest = { messages: [{ role: 'user', content: [{ type: 'image', url: 'http://x/y.png' }] }] };
    expect(await rejection(e.generate(image))).toMatchObject({ code: 'unsupported', param: 'messages.0.content' });
    await e.close();
  });

  it('close() stops a running generation before its next step', async () => {
    const e = engine('chain.onnx', { contextSize: 4096 });
    const parts: StreamPart[] = [];
    let closed: Promise<void> | undefined;
    for await (const p of e.stream(prompt('dog', { maxTokens: 4000 }))) {
      parts.push(p);
      if (p.type === 'text-delta' && !closed) closed = e.close();
    }
    await closed;
    expect(deltasOf(parts)).toHaveLength(1);
    expect(parts.at(-1)).toMatchObject({ type: 'error', error: { code: 'shutting_down' } });
  });

  it('fails calls after close()', async () => {
    const e = engine('chain.onnx');
    await e.generate(prompt('the'));
    await e.close();
    expect((await rejection(e.generate(prompt('the')))).code).toBe('shutting_down');
  });
});

describe('onnx text generation engine: topK and logprobs (from the graph\'s own logits)', () => {
  /** log-softmax over the random graph's logits after `last` (E[last] @ W + NO_SPECIALS), as `referenceGreedy` computes them. */
  function referenceLogprobs(last: number): number[] {
    const scores = Array.from({ length: V }, (_, v) => {
      let score = 0;
      for (let d = 0; d < 8; d++) score += RANDOM_E.data[last * 8 + d]! * RANDOM_W.data[d * V + v]!;
      return score + NO_SPECIALS.data[v]!;
    });
    const max = Math.max(...scores);
    const logZ = max + Math.log(scores.reduce((s, x) => s + Math.exp(x - max), 0));
    return scores.map((x) => x - logZ);
  }

  it('chain graph: each word is listed with log-softmax(10 vs 0s), its top candidate first; none unless asked', async () => {
    const e = engine('chain.onnx');
    const r = await e.generate(prompt('The', { logprobs: { topLogprobs: 2 } }));
    expect(r.text).toBe('cat sat on a mat');
    const logZ = Math.log(Math.exp(10) + (V - 1));
    // Each token is what it adds to the text (the decoder puts the spaces between words): joined they are the text.
    expect(r.logprobs!.map((t) => t.token)).toEqual(['cat', ' sat', ' on', ' a', ' mat']);
    expect(r.logprobs!.map((t) => t.token).join('')).toBe(r.text);
    for (const t of r.logprobs!) {
      expect(t.logprob).toBeCloseTo(10 - logZ, 5);
      expect(t.topLogprobs).toHaveLength(2);
      expect(t.topLogprobs![0]).toEqual({ token: t.token, logprob: t.logprob });
      expect(t.topLogprobs![1]!.logprob).toBeCloseTo(-logZ, 5);
    }
    expect(r.warnings).toBeUndefined();
    expect((await e.generate(prompt('The'))).logprobs).toBeUndefined();
    await e.close();
  });

  it('stream: a logprobs part right after each text-delta, with the tokens that delta released', async () => {
    const e = engine('chain.onnx');
    const parts = await collect(e.stream(prompt('the', { logprobs: {} })));
    const body = parts.filter((p) => p.type === 'text-delta' || p.type === 'logprobs').map((p) => p.type);
    expect(body).toEqual(Array.from({ length: 5 }, () => ['text-delta', 'logprobs']).flat());
    parts.forEach((p, i) => {
      if (p.type === 'logprobs') {
        expect(parts[i - 1]!.type).toBe('text-delta');
        expect(p.logprobs).toHaveLength(1);
        expect(p.logprobs[0]!.topLogprobs).toBeUndefined();
      }
    });
    await e.close();
  });

  it('random graph: the logprobs and top 3 match a reference log-softmax of the graph', async () => {
    const e = engine('random.onnx');
    const r = await e.generate(prompt('the dog', { maxTokens: 4, logprobs: { topLogprobs: 3 } }));
    const path = referenceGreedy([id('the'), id('dog')], 4, id('</s>'));
    let last = id('dog');
    expect(r.logprobs).toHaveLength(path.length);
    path.forEach((token, k) => {
      const ref = referenceLogprobs(last);
      const got = r.logprobs![k]!;
      // A word after the first adds its space: the candidates read as they would after the answer so far.
      const space = k === 0 ? '' : ' ';
      expect(got.token).toBe(space + WORDS[token]);
      expect(got.logprob).toBeCloseTo(ref[token]!, 4);
      const top3 = ref.map((lp, v) => [lp, v] as const).sort((a, b) => b[0] - a[0]).slice(0, 3);
      expect(got.topLogprobs!.map((t) => t.token)).toEqual(top3.map(([, v]) => space + WORDS[v]));
      got.topLogprobs!.forEach((t, j) => expect(t.logprob).toBeCloseTo(top3[j]![0], 4));
      last = token;
    });
    await e.close();
  });

  it('topK 1 samples the greedy answer at any temperature and seed; topK and logprobs warn of nothing, verbosity does', async () => {
    const e = engine('random.onnx');
    const greedy = (await e.generate(prompt('the dog', { maxTokens: 8 }))).text;
    for (const seed of [3, 4, 5, 6]) {
      const r = await e.generate(prompt('the dog', { maxTokens: 8, temperature: 1.5, topK: 1, seed, logprobs: {} }));
      expect(r.text).toBe(greedy);
      expect(r.warnings).toBeUndefined();
    }
    const hot = await Promise.all([3, 4, 5, 6].map(async (seed) => (await e.generate(prompt('the dog', { maxTokens: 8, temperature: 1.5, seed }))).text));
    expect(hot.some((t) => t !== greedy)).toBe(true);
    const v = await e.generate(prompt('the dog', { maxTokens: 2, verbosity: 'high' }));
    expect(v.warnings).toEqual([{ code: 'setting_not_sent', field: 'verbosity', message: expect.stringContaining('verbosity') }]);
    expect(await rejection(e.generate(prompt('the dog', { topK: 0 })))).toMatchObject({ code: 'invalid_request', param: 'topK' });
    await e.close();
  });
});
