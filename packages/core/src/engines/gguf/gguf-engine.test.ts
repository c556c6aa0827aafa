import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ModelConfigSchema, type ModelConfigInput } from '../../config/schema.js';
import { LLMError } from '../../errors/llm-error.js';
import type { GenerateRequest, StreamPart } from '../../spec/index.js';
import { defaultEngineContext, type EngineFactory } from '../types.js';
import { GgufEngine, createGgufEngine } from './gguf-engine.js';
import { collect, rejection } from '../../test/async.test-helpers.js';
import { startOpenAIWireServer } from '../../test/openai-wire-server.js';
import { LLMRouter } from '../../router/llm-router.js';

// The shared folder sits beside the repository root (../shared), unless LLMRR_SHARED_DIR says otherwise.
const repoRoot = fileURLToPath(new URL('../../../../../', import.meta.url));
const sharedDir = process.env['LLMRR_SHARED_DIR'] ?? resolve(repoRoot, '../shared');
const modelsDir = join(sharedDir, 'models');
const modelFile = join(modelsDir, 'stories260K.gguf');
const hasModel = existsSync(modelFile);
const suiteName = hasModel ? 'gguf engine with stories260K' : `gguf engine with stories260K (SKIPPED: ${modelFile} not found; set LLMRR_SHARED_DIR)`;
if (!hasModel) console.warn(`[gguf tests] ${modelFile} not found: the model tests are skipped (set LLMRR_SHARED_DIR to the shared folder)`);

const ctx = defaultEngineContext({ baseDir: modelsDir });

function engine(overrides: Partial<ModelConfigInput> = {}, options: Record<string, unknown> = {}): GgufEngine {
  const model = ModelConfigSchema.parse({ name: 'stories', engine: 'gguf', path: 'stories260K.gguf', options, ...overrides });
  return createGgufEngine(model, ctx);
}

const prompt = (text: string, extra: Partial<GenerateRequest> = {}): GenerateRequest => ({
  messages: [{ role: 'user', content: text }],
  ...extra,
});

describe('gguf engine: configuration errors (no model needed)', () => {
  it('gives a clear error naming the path when the file is missing', async () => {
    const e = engine({ path: 'no-such-model.gguf' });
    const err = await rejection(e.generate(prompt('Once upon a time')));
    expect(err.code).toBe('config_invalid');
    expect(err.param).toBe('path');
    expect(err.deployment).toBe('stories');
    expect(err.message).toContain(join(modelsDir, 'no-such-model.gguf'));
    expect(err.message).toContain('not found');
    // Streams report it as an error part.
    const parts = await collect(e.stream(prompt('x')));
    expect(parts).toHaveLength(1);
    expect(parts[0]).toMatchObject({ type: 'error', error: { code: 'config_invalid' } });
  });

  it('requires path and refuses bad or unknown options', () => {
    const noPath = ModelConfigSchema.parse({ name: 'x', engine: 'gguf' });
    expect(() => createGgufEngine(noPath, ctx)).toThrow(/path is required/);
    const bad = (options: Record<string, unknown>) => {
      try {
        engine({}, options);
      } catch (e) {
        return e as LLMError;
      }
      throw new Error('expected a throw');
    };
    expect(bad({ threads: 0 })).toMatchObject({ code: 'config_invalid', param: 'options.threads' });
    expect(bad({ contextSize: -1 })).toMatchObject({ code: 'config_invalid', param: 'options.contextSize' });
    expect(bad({ thread: 2 })).toMatchObject({ code: 'config_invalid', param: 'options.thread' });
  });

  it('declares honest capabilities and a zero price', () => {
    const e = engine();
    expect(e.provider).toBe('gguf');
    expect(e.specVersion).toBe('v1');
    expect(e.capabilities).toEqual({ streaming: true, json: true });
    expect(e.price).toEqual({ input: 0, output: 0 });
  });
});

// The real model on one thread, CPU-bound (some tests load it again, several times): up to 19 s a test on a loaded
// machine beside another worker. The bound only guards against a hang.
describe.skipIf(!hasModel)(suiteName, { timeout: 90_000 }, () => {
  let e: GgufEngine;
  // An independent node-llama-cpp load of the same file, as ground truth for token counts.
  let truth: { tokenize: (t: string) => number[]; promptTokens: (t: string, max: number) => Promise<{ input: number; text: string }>; close: () => Promise<void> };

  beforeAll(async () => {
    e = engine();
    const lib = await import('node-llama-cpp');
    const llama = await lib.getLlama({ gpu: false, build: 'never', logLevel: lib.LlamaLogLevel.error });
    const model = await llama.loadModel({ modelPath: modelFile });
    truth = {
      tokenize: (t) => model.tokenize(t),
      async promptTokens(text, maxTokens) {
        const context = await model.createContext({ contextSize: 512, threads: 1 });
        try {
          const sequence = context.getSequence();
          const completion = new lib.LlamaCompletion({ contextSequence: sequence });
          // The same tokens the engine feeds (llama.cpp's tokenization of a document start); LlamaCompletion adds BOS.
          const promptTokens = model.tokenize(text);
          const answer: number[] = [];
          const res = await completion.generateCompletionWithMeta(promptTokens, { maxTokens, onToken: (t) => answer.push(...t) });
          expect(res.metadata.stopReason).toBe('maxTokens');
          // The answer's text as it reads after the prompt: its first token keeps its leading space (node-llama-cpp's
          // own response decodes the answer alone and drops it).
          const whole = model.detokenize([...promptTokens, ...answer] as typeof promptTokens);
          // After N sampled tokens the sequence holds the prompt and the first N-1 of them.
          return { input: sequence.contextTokens.length - maxTokens + 1, text: whole.slice(model.detokenize(promptTokens).length) };
        } finally {
          await context.dispose();
        }
      },
      async close() {
        await model.dispose();
        await llama.dispose();
      },
    };
  });

  afterAll(async () => {
    await e?.close();
    await truth?.close();
  });

  it('"Once upon a time" generates a non-empty story', async () => {
    const r = await e.generate(prompt('Once upon a time', { maxTokens: 40 }));
    expect(r.text.trim().length).toBeGreaterThan(20);
    expect(r.text).toMatch(/[a-z]{3,}/);
    expect(r.toolCalls).toEqual([]);
    expect(['stop', 'length']).toContain(r.finishReason);
    expect(r.providerModel).toBe('stories');
  });

  it('streams several text deltas whose concatenation is the final text', async () => {
    const req = prompt('Once upon a time', { maxTokens: 30 });
    const parts = await collect(e.stream(req));
    expect(parts[0]).toEqual({ type: 'response-metadata', model: 'stories' });
    const deltas = parts.filter((p): p is Extract<StreamPart, { type: 'text-delta' }> => p.type === 'text-delta');
    expect(deltas.length).toBeGreaterThan(5);
    const last = parts.at(-1);
    expect(last?.type).toBe('finish');
    const streamed = deltas.map((d) => d.delta).join('');
    const generated = await e.generate(req);
    expect(streamed).toBe(generated.text);
    if (last?.type === 'finish') expect(last.usage).toEqual(generated.usage);
  });

  it('counts usage with the model tokenizer, exactly as node-llama-cpp feeds the prompt', async () => {
    const text = 'Once upon a time there was a cat';
    const r = await e.generate(prompt(text, { maxTokens: 12 }));
    const t = await truth.promptTokens(text, 12);
    expect(r.finishReason).toBe('length');
    expect(r.usage.inputTokens).toBe(t.input);
    expect(r.usage.inputTokens).toBe(truth.tokenize(text).length + 1); // + BOS
    expect(r.usage.outputTokens).toBe(12);
    expect(r.usage.totalTokens).toBe(r.usage.inputTokens + 12);
    expect(r.usage.estimated).toBeUndefined();
    // Same greedy defaults as node-llama-cpp itself.
    expect(r.text).toBe(t.text);
    expect(await e.countTokens(prompt(text))).toBe(t.input);
  });

  it('runs two concurrent requests in separate contexts', async () => {
    const a = prompt('Once upon a time', { maxTokens: 25 });
    const b = prompt('The little dog', { maxTokens: 25 });
    const [ra, rb] = await Promise.all([e.generate(a), e.generate(b)]);
    expect(ra.text.length).toBeGreaterThan(0);
    expect(rb.text.length).toBeGreaterThan(0);
    // Nothing is shared: each equals what the same request gives alone.
    expect(ra.text).toBe((await e.generate(a)).text);
    expect(rb.text).toBe((await e.generate(b)).text);
    expect(ra.text).not.toBe(rb.text);
  });

  it('loads the model once for concurrent first calls', async () => {
    const fresh = engine();
    const loader = (fresh as unknown as { loader: { load(): Promise<unknown> } }).loader;
    const load = vi.spyOn(loader, 'load');
    try {
      const rs = await Promise.all([1, 2, 3].map(() => fresh.generate(prompt('Once upon a time', { maxTokens: 5 }))));
      expect(new Set(rs.map((r) => r.text)).size).toBe(1);
      await fresh.countTokens(prompt('x'));
      expect(load).toHaveBeenCalledTimes(1);
    } finally {
      await fresh.close();
    }
  });

  it('stops a long generation early on abort and reports aborted', async () => {
    const long = engine({}, { contextSize: 2048 });
    try {
      const controller = new AbortController();
      const parts: StreamPart[] = [];
      let deltas = 0;
      for await (const p of long.stream(prompt('Once upon a time', { maxTokens: 2000 }), { signal: controller.signal })) {
        parts.push(p);
        if (p.type === 'text-delta' && ++deltas === 3) controller.abort();
      }
      expect(deltas).toBe(3);
      const usage = parts.find((p) => p.type === 'usage');
      expect(usage?.type === 'usage' && usage.usage.outputTokens).toBeLessThan(200);
      expect(parts.at(-1)).toMatchObject({ type: 'error', error: { code: 'aborted' } });
      expect(parts.some((p) => p.type === 'finish')).toBe(false);

      // generate() rejects with aborted, whether aborted before or during the call.
      const before = new AbortController();
      before.abort();
      expect((await rejection(long.generate(prompt('Once upon a time'), { signal: before.signal }))).code).toBe('aborted');
      const during = new AbortController();
      const pending = long.generate(prompt('Once upon a time', { maxTokens: 2000 }), { signal: during.signal });
      setTimeout(() => during.abort(), 5);
      expect((await rejection(pending)).code).toBe('aborted');
    } finally {
      await long.close();
    }
  });

  it('stops when the consumer stops reading', async () => {
    let seen = 0;
    for await (const p of e.stream(prompt('Once upon a time', { maxTokens: 400 }))) {
      if (p.type === 'text-delta' && ++seen === 2) break;
    }
    expect(seen).toBe(2);
    // The engine is still usable and nothing is left running.
    expect((e as unknown as { running: Set<unknown> }).running.size).toBe(0);
    expect((await e.generate(prompt('Once upon a time', { maxTokens: 5 }))).text.length).toBeGreaterThan(0);
  });

  it('passes stop sequences, seed and temperature through', async () => {
    const stopped = await e.generate(prompt('Once upon a time', { maxTokens: 60, stop: ['.'] }));
    expect(stopped.finishReason).toBe('stop');
    expect(stopped.text).not.toContain('.');
    expect(stopped.text.length).toBeGreaterThan(0);

    const sampled = prompt('Once upon a time', { maxTokens: 30, temperature: 1, topP: 0.9, seed: 42 });
    const s1 = await e.generate(sampled);
    const s2 = await e.generate(sampled);
    expect(s1.text).toBe(s2.text);
    const others = await Promise.all([1, 2, 3].map((seed) => e.generate({ ...sampled, seed })));
    expect(others.some((o) => o.text !== s1.text)).toBe(true);
  });

  it('constrains output to a JSON schema with a grammar, even without a chat template', async () => {
    const r = await e.generate(
      prompt('Once upon a time', {
        maxTokens: 80,
        responseFormat: { type: 'json_schema', schema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } },
      }),
    );
    const parsed = JSON.parse(r.text) as { name: unknown };
    expect(typeof parsed.name).toBe('string');
    expect(r.finishReason).toBe('stop');
  });

  it('uses raw completion for a model without a chat template, or a named template when asked', async () => {
    const text = 'Once upon a time';
    const raw = await e.countTokens(prompt(text));
    expect(raw).toBe(truth.tokenize(text).length + 1);
    const none = engine({}, { chatTemplate: 'none' });
    const chatml = engine({}, { chatTemplate: 'chatML' });
    const unknown = engine({}, { chatTemplate: 'no-such-template' });
    try {
      expect(await none.countTokens(prompt(text))).toBe(raw);
      // The raw prompt is the messages' text joined by newlines.
      const twoMessages: GenerateRequest = { messages: [{ role: 'system', content: 'Lily' }, { role: 'user', content: text }] };
      expect(await none.countTokens(twoMessages)).toBe(truth.tokenize(`Lily\n${text}`).length + 1);
      // So are a message's text parts (not run together: "Once upona time").
      const twoParts: GenerateRequest = { messages: [{ role: 'user', content: [{ type: 'text', text: 'Once upon' }, { type: 'text', text: 'a time' }] }] };
      expect(await none.countTokens(twoParts)).toBe(truth.tokenize('Once upon\na time').length + 1);
      expect(truth.tokenize('Once upon\na time')).not.toEqual(truth.tokenize('Once upona time'));
      // ChatML wraps the turn in <|im_start|>user ... <|im_end|> <|im_start|>assistant markers.
      expect(await chatml.countTokens(prompt(text))).toBeGreaterThan(raw + 5);
      const r = await chatml.generate(prompt(text, { maxTokens: 8 }));
      expect(r.usage.inputTokens).toBe(await chatml.countTokens(prompt(text)));
      const err = await rejection(unknown.countTokens(prompt(text)));
      expect(err).toMatchObject({ code: 'config_invalid', param: 'options.chatTemplate' });
    } finally {
      await Promise.all([none.close(), chatml.close(), unknown.close()]);
    }
  });

  it('refuses prompts longer than the context, tools, and bad parameters', async () => {
    // llama.cpp rounds a context up to a multiple of 256 tokens.
    const small = engine({}, { contextSize: 16 });
    try {
      const err = await rejection(small.generate(prompt('Once upon a time there was a little girl. '.repeat(40))));
      expect(err).toMatchObject({ code: 'context_length_exceeded', param: 'messages' });
      expect(err.message).toMatch(/holds 256/);
      // Generation stops at the end of the context with 'length' instead of shifting it.
      const r = await small.generate(prompt('Once upon a time', { maxTokens: 1000 }));
      expect(r.finishReason).toBe('length');
      expect(r.usage.totalTokens).toBeLessThanOrEqual(256);
      expect(r.usage.totalTokens).toBeGreaterThan(200);
    } finally {
      await small.close();
    }
    const tools = await rejection(e.generate(prompt('x', { tools: [{ name: 'f', parameters: { type: 'object' } }] })));
    expect(tools).toMatchObject({ code: 'unsupported', param: 'tools' });
    expect(await rejection(e.generate(prompt('x', { maxTokens: 0 })))).toMatchObject({ code: 'invalid_request', param: 'maxTokens' });
    expect(await rejection(e.generate(prompt('x', { topP: 2 })))).toMatchObject({ code: 'invalid_request', param: 'topP' });
    expect(await rejection(e.generate({ messages: [] }))).toMatchObject({ code: 'invalid_request', param: 'messages' });
  });

  it('close() stops a running generation', async () => {
    const closing = engine({}, { contextSize: 2048 });
    const parts: StreamPart[] = [];
    let closed: Promise<void> | undefined;
    for await (const p of closing.stream(prompt('Once upon a time', { maxTokens: 2000 }))) {
      parts.push(p);
      if (p.type === 'text-delta' && !closed) closed = closing.close();
    }
    await closed;
    expect(parts.at(-1)).toMatchObject({ type: 'error', error: { code: 'shutting_down' } });
    expect(parts.filter((p) => p.type === 'text-delta').length).toBeLessThan(200);
  });

  it('close() while a started stream waits at a yield: the stream ends with shutting_down', async () => {
    const closing = engine();
    try {
      const parts = closing.stream(prompt('Once upon a time', { maxTokens: 20 }))[Symbol.asyncIterator]();
      // The call is running: the model is loaded and the stream has begun (its response-metadata part), but the
      // generation has not started (the consumer has not asked for more).
      expect((await parts.next()).value).toMatchObject({ type: 'response-metadata' });
      await closing.close();
      const rest: StreamPart[] = [];
      for (let next = await parts.next(); !next.done; next = await parts.next()) rest.push(next.value);
      // The model is disposed: no text, the closed engine's error (not an internal "Object is disposed").
      expect(rest).toEqual([{ type: 'error', error: expect.objectContaining({ code: 'shutting_down' }) }]);
      expect((closing as unknown as { running: Set<unknown> }).running.size).toBe(0);
    } finally {
      await closing.close();
    }
  });

  it('fails calls after close()', async () => {
    const closing = engine();
    await closing.generate(prompt('Once upon a time', { maxTokens: 3 }));
    await closing.close();
    expect((await rejection(closing.generate(prompt('x')))).code).toBe('shutting_down');
  });

  it('measures generation speed with one thread', async () => {
    const req = prompt('Once upon a time', { maxTokens: 200 });
    await e.generate(prompt('Once upon a time', { maxTokens: 2 })); // warm
    const start = performance.now();
    const r = await e.generate(req);
    const seconds = (performance.now() - start) / 1000;
    const tokensPerSecond = r.usage.outputTokens / seconds;
    console.info(`[gguf] stories260K, threads 1: ${r.usage.outputTokens} tokens in ${(seconds * 1000).toFixed(0)} ms = ${tokensPerSecond.toFixed(0)} tokens/s`);
    expect(r.usage.outputTokens).toBeGreaterThan(0);
  });
});

/**
 * An engine is closed by its router's `close()` (its calls end with `shutting_down`, above) and also when its deployment
 * is retired (`unload`, replaced, a tenant's changed or dropped own model) while a call that planned it has not
 * reached it: that call moves on at once (no request, no retry, no strike), and never ends with `shutting_down`
 * (nothing shuts down) nor with a 500.
 */
describe.skipIf(!hasModel)('a gguf deployment retired while a call that planned it runs', { timeout: 90_000 }, () => {
  const local = { name: 'local', engine: 'gguf' as const, path: modelFile, options: { threads: 1 } };

  it('reached as a fallback: not tried (no retry on its closed engine); the call ends with the error of the deployment it tried', async () => {
    let router: LLMRouter | undefined;
    // remote's first request retires local (idle: its engine is closed at once); every request of remote fails.
    const remote = await startOpenAIWireServer({
      script: (_request, n) => {
        if (n === 0) expect(router!.unload('local')).toBe(true);
        return { error: { status: 503, message: 'remote is down' } };
      },
    });
    router = new LLMRouter(
      { models: [{ name: 'remote', engine: 'openai-compatible', baseURL: remote.baseURL, model: 'x', apiKey: 'k' }, local], routing: { retries: { max: 2 } } },
      { sleep: async () => {} },
    );
    const retries: string[] = [];
    router.on('retry', (e) => retries.push(`${e.deployment}:${e.error.code}`));
    try {
      // The local engine exists (a call loaded it), idle.
      expect((await router.generate('Once upon a time', { model: 'local', maxTokens: 4 })).deployment).toBe('local');
      const error = await rejection(router.generate('hi', { model: 'remote', fallbacks: ['local'] }));
      expect({ code: error.code, deployment: error.deployment, retries, requests: remote.requests.length }).toEqual({
        code: 'provider_unavailable',
        deployment: 'remote',
        retries: ['remote:provider_unavailable', 'remote:provider_unavailable'],
        requests: 3,
      });
    } finally {
      await router.close();
      await remote.close();
    }
  });

  it('retired during its own retry wait, alone in the plan: the retry is not made; the call ends with no_deployment (503, clients retry), not shutting_down', async () => {
    const router: LLMRouter = new LLMRouter(
      { models: [local], routing: { retries: { max: 2 } } },
      {
        // The retry wait after the first attempt's timeout: local is retired meanwhile (idle: closed at once).
        sleep: async () => {
          router.unload('local');
        },
      },
    );
    const retries: string[] = [];
    router.on('retry', (e) => retries.push(`${e.deployment}:${e.error.code}`));
    try {
      expect((await router.generate('Once upon a time', { maxTokens: 4 })).deployment).toBe('local');
      // A generation far longer than its 1 ms deadline: a timeout (retryable).
      const error = await rejection(router.generate('Once upon a time', { maxTokens: 2000, timeouts: { totalMs: 1 } }));
      expect({ code: error.code, status: error.statusCode, deployment: error.deployment, retries }).toEqual({
        code: 'no_deployment',
        status: 503,
        deployment: 'local',
        retries: ['local:timeout'],
      });
    } finally {
      await router.close();
    }
  });

  it('retired while it generates: its model is released once that call ends ("closed once idle"), not kept until router.close()', async () => {
    let closed = 0;
    const factory: EngineFactory = (config, ctx) => {
      const engine = createGgufEngine(config, ctx);
      const close = engine.close.bind(engine);
      engine.close = async () => {
        closed++;
        await close();
      };
      return engine;
    };
    const router = new LLMRouter({ models: [{ ...local, engine: 'gguf-counted' }] }, { engineFactories: { 'gguf-counted': factory } });
    try {
      const stream = router.stream('Once upon a time', { maxTokens: 64 });
      const types: string[] = [];
      for await (const part of stream) {
        // The first text: the model is loaded and generating; the deployment is removed under the call.
        if (part.type === 'text-delta' && !types.includes('text-delta')) expect(router.unload('local')).toBe(true);
        types.push(part.type);
      }
      // The call ran to its end on the removed deployment.
      expect(types.at(-1)).toBe('finish');
      await expect.poll(() => closed, { timeout: 5_000 }).toBe(1);
    } finally {
      await router.close();
    }
    expect(closed).toBe(1);
  });
});
