/**
 * Every gguf call gets a context of its own (its KV cache: megabytes for a small model, gigabytes for a 7B one at
 * 4096 tokens), so unbounded concurrent calls grew memory without limit. The engine runs at most
 * `options.maxConcurrency` calls at once (default: the machine's cores over `threads`), queues up to
 * `options.maxQueued` more (default 32) in arrival order, and refuses beyond that with `overloaded` (503, retryable,
 * Retry-After 1 s). A refusal says the model is busy, not failing: a router moves on to its next deployment at once
 * and strikes no circuit. A slot is given back when the generation ends (its context disposed), not when the
 * stream's consumer has read it all. Against the real stories260K model.
 */
import { availableParallelism } from 'node:os';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { ModelConfigSchema } from '../../config/schema.js';
import { LLMError } from '../../errors/llm-error.js';
import { LLMRouter } from '../../router/llm-router.js';
import type { GenerateRequest } from '../../spec/index.js';
import { rejection } from '../../test/async.test-helpers.js';
import { OnnxOptionsSchema } from '../onnx/onnx-options.js';
import type { GgufEngine } from './gguf-engine.js';
import type { LoadedGguf } from './gguf-loader.js';
import { GgufOptionsSchema, parseGgufOptions } from './gguf-options.js';
import { hasStoriesModel, storiesEngine, storiesModelFile, warnIfNoStoriesModel } from './stories-model.test-helpers.js';

warnIfNoStoriesModel('gguf concurrency');

const ask = (text: string, maxTokens = 30): GenerateRequest => ({ messages: [{ role: 'user', content: text }], maxTokens });

/** Counts the engine's live contexts (created, not yet disposed) and the most at once. */
async function contextMeter(engine: GgufEngine): Promise<{ live: () => number; most: () => number; created: () => number; disposed: () => number }> {
  const loaded = await (engine as unknown as { loaded(): Promise<LoadedGguf> }).loaded();
  const model = loaded.model;
  const create = model.createContext.bind(model);
  let live = 0;
  let most = 0;
  let created = 0;
  let disposed = 0;
  vi.spyOn(model, 'createContext').mockImplementation(async (options) => {
    const context = await create(options);
    created++;
    most = Math.max(most, ++live);
    const dispose = context.dispose.bind(context);
    context.dispose = async () => {
      live--;
      disposed++;
      await dispose();
    };
    return context;
  });
  return { live: () => live, most: () => most, created: () => created, disposed: () => disposed };
}

describe('gguf options: maxConcurrency', () => {
  const options = (o: Record<string, unknown>) => parseGgufOptions(ModelConfigSchema.parse({ name: 'g', engine: 'gguf', path: 'm.gguf', options: o }));

  it('defaults to the cores over threads (at least 1) when the options are parsed; a value given is kept', () => {
    const cores = availableParallelism();
    expect(options({}).maxConcurrency).toBe(cores);
    expect(options({ threads: 2 }).maxConcurrency).toBe(Math.max(1, Math.floor(cores / 2)));
    expect(options({ threads: cores + 1 }).maxConcurrency).toBe(1);
    expect(options({ threads: cores + 1, maxConcurrency: 3 }).maxConcurrency).toBe(3);
  });

  it('GgufOptionsSchema stays an object schema as the other engines\' (.shape, .extend, z.toJSONSchema), the default not in it', () => {
    for (const schema of [GgufOptionsSchema, OnnxOptionsSchema]) {
      expect(typeof schema.extend).toBe('function');
      expect(() => z.toJSONSchema(schema)).not.toThrow();
    }
    expect(Object.keys(GgufOptionsSchema.shape)).toContain('maxConcurrency');
    expect(GgufOptionsSchema.parse({}).maxConcurrency).toBeUndefined();
  });
});

describe.skipIf(!hasStoriesModel)(`gguf engine: concurrent calls (${storiesModelFile})`, { timeout: 120_000 }, () => {
  it('maxConcurrency defaults to the cores over threads (at least 1), maxQueued to 32', () => {
    const cores = availableParallelism();
    expect({ maxConcurrency: storiesEngine().options.maxConcurrency, maxQueued: storiesEngine().options.maxQueued }).toEqual({ maxConcurrency: cores, maxQueued: 32 });
  });

  it('runs at most maxConcurrency calls at once and queues the rest: 5 concurrent calls all answer, as each alone', async () => {
    const engine = storiesEngine({ maxConcurrency: 2 });
    try {
      const meter = await contextMeter(engine);
      const prompts = ['Once upon a time', 'The little dog', 'A girl named Lily', 'One day, Tom', 'The sun was'];
      const together = await Promise.all(prompts.map((p) => engine.generate(ask(p))));
      expect(meter.most()).toBe(2);
      expect(meter.created()).toBe(5);
      expect(meter.live()).toBe(0);
      for (const [i, p] of prompts.entries()) expect(together[i]!.text).toBe((await engine.generate(ask(p))).text);
    } finally {
      vi.restoreAllMocks();
      await engine.close();
    }
  });

  it('beyond maxQueued waiting calls, a call is refused at once with overloaded (503, retryable), naming the options', async () => {
    const engine = storiesEngine({ maxConcurrency: 1, maxQueued: 1 });
    try {
      const meter = await contextMeter(engine);
      const first = engine.generate(ask('Once upon a time', 60));
      const second = engine.generate(ask('The little dog', 60));
      const third = await rejection(engine.generate(ask('One day, Tom', 60)));
      expect(LLMError.isInstance(third) && { code: third.code, status: third.statusCode, retryable: third.isRetryable, retryAfterMs: third.retryAfterMs }).toEqual({
        code: 'overloaded',
        status: 503,
        retryable: true,
        retryAfterMs: 1000,
      });
      expect(third.message).toContain('options.maxConcurrency 1');
      expect(third.message).toContain('options.maxQueued 1');
      const [a, b] = await Promise.all([first, second]);
      expect([a.text.length > 0, b.text.length > 0]).toEqual([true, true]);
      expect({ most: meter.most(), created: meter.created() }).toEqual({ most: 1, created: 2 });
      // The slots are free again.
      expect((await engine.generate(ask('One day, Tom', 5))).text.length).toBeGreaterThan(0);
    } finally {
      vi.restoreAllMocks();
      await engine.close();
    }
  });

  it('a waiting call whose signal aborts leaves the queue (aborted) without a context; close() fails the waiting calls', async () => {
    const engine = storiesEngine({ maxConcurrency: 1 });
    try {
      const meter = await contextMeter(engine);
      const running = engine.generate(ask('Once upon a time', 200));
      const controller = new AbortController();
      const waiting = engine.generate(ask('The little dog'), { signal: controller.signal });
      const settled = waiting.then(
        () => 'answered',
        (e: unknown) => (LLMError.isInstance(e) ? e.code : 'other'),
      );
      await vi.waitFor(() => expect(meter.created()).toBe(1));
      controller.abort();
      expect(await settled).toBe('aborted');
      await running;
      expect(meter.created()).toBe(1);

      const long = engine.generate(ask('Once upon a time', 400));
      const queued = engine.generate(ask('The little dog'));
      const failures = Promise.all([rejection(queued), rejection(long)]);
      await vi.waitFor(() => expect(meter.created()).toBe(2));
      await engine.close();
      expect((await failures).map((e) => e.code)).toEqual(['shutting_down', 'shutting_down']);
      expect(meter.created()).toBe(2);
    } finally {
      vi.restoreAllMocks();
      await engine.close();
    }
  });

  it('a slot is free once the generation ends (context disposed), while its stream consumer still reads slowly', async () => {
    const engine = storiesEngine({ maxConcurrency: 1, maxQueued: 0 });
    const stream = engine.stream(ask('Once upon a time', 40))[Symbol.asyncIterator]();
    try {
      const meter = await contextMeter(engine);
      // The consumer reads the first text and then pauses (as a slow client would).
      let part = await stream.next();
      while (!part.done && part.value.type !== 'text-delta') part = await stream.next();
      expect(part.done).toBe(false);
      // The generation runs on without the consumer: it ends and its context is disposed.
      await vi.waitFor(() => expect({ disposed: meter.disposed(), live: meter.live() }).toEqual({ disposed: 1, live: 0 }), { timeout: 30_000 });
      const other = await engine.generate(ask('The little dog', 5)).then(
        (r) => (r.text.length > 0 ? 'answered' : 'empty'),
        (e: unknown) => (LLMError.isInstance(e) ? e.code : 'other'),
      );
      expect(other).toBe('answered');
      // The slow stream still ends as it would have.
      const rest: string[] = [];
      for (let p = await stream.next(); !p.done; p = await stream.next()) rest.push(p.value.type);
      expect(rest.at(-1)).toBe('finish');
      // Its slot was given back once: one call at a time still, none refused.
      const [a, b] = await Promise.all([engine.generate(ask('A girl named Lily', 5)), engine.generate(ask('One day, Tom', 5)).catch((e: unknown) => e)]);
      expect(a.text.length).toBeGreaterThan(0);
      expect(LLMError.isInstance(b) && b.code).toBe('overloaded');
    } finally {
      await stream.return?.(undefined);
      vi.restoreAllMocks();
      await engine.close();
    }
  });

  it('in a router, a call refused by the cap (generate or stream) moves on to the next deployment at once, striking no circuit', async () => {
    const router = new LLMRouter({
      models: [
        { name: 'local', engine: 'gguf', path: storiesModelFile, priority: 1, options: { threads: 1, maxConcurrency: 1, maxQueued: 0 } },
        { name: 'backup', engine: 'mock', priority: 2 },
      ],
      routing: { strategy: 'priority', retries: { max: 2 } },
    });
    const retried: string[] = [];
    router.on('retry', (e) => retried.push(e.deployment));
    try {
      // Load the model first: every call of the burst reaches the slots.
      await router.generate({ messages: [{ role: 'user', content: 'Once upon a time' }], maxTokens: 2 }, { model: 'local' });
      // Every other call streamed: a refusal is the stream's first part, classified as a generate's failure.
      const burst = await Promise.all(
        Array.from({ length: 8 }, (_, i) => {
          const request = { messages: [{ role: 'user' as const, content: `Story ${i}` }], maxTokens: 40 };
          return i % 2 === 0 ? router.generate(request) : router.stream(request).result;
        }),
      );
      const served = burst.map((r) => r.deployment);
      // The model answered every call it took and refused the rest (busy, not failing): no strike, no error counted.
      expect(served).toContain('local');
      const refused = burst.filter((r) => r.deployment === 'backup').map((r) => r.attempts);
      expect(refused.length).toBeGreaterThan(0);
      expect(burst.some((r, i) => i % 2 === 1 && r.deployment === 'backup')).toBe(true);
      for (const attempts of refused) {
        expect(attempts.map((a) => ({ deployment: a.deployment, errorCode: a.errorCode, strike: a.strike }))).toEqual([
          { deployment: 'local', errorCode: 'overloaded', strike: undefined },
          { deployment: 'backup', errorCode: undefined, strike: undefined },
        ]);
      }
      expect(router.stats()['local']!.failures).toBe(0);
      expect(router.circuits().find((c) => c.deployment === 'local')!.state).toBe('closed');
      // No backoff and retry on the busy model: the refused calls went to the backup at once.
      expect(retried).toEqual([]);
    } finally {
      await router.close();
    }
  });

  it('refuses a bad maxConcurrency or maxQueued naming the option', () => {
    expect(() => storiesEngine({ maxConcurrency: 0 })).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'options.maxConcurrency' }));
    expect(() => storiesEngine({ maxQueued: -1 })).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'options.maxQueued' }));
  });
});
