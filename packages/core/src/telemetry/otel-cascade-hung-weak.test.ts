/**
 * A streamed cascade cancelled while its weak step runs sends its `cascade:end` only once the weak
 * step's call settles, which the abort bounds: a hung upstream, an engine or a strategy that ignores the abort.
 * Real OTel SDK (InMemorySpanExporter), real LLMRouter.
 */
import * as api from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MockEngine } from '../engines/mock/mock-engine.js';
import type { CallOptions, GenerateRequest, GenerateResult } from '../spec/index.js';
import { LLMRouter } from '../router/llm-router.js';
import { startLoopbackHttp } from '../test/loopback-http.test-helpers.js';
import { instrumentRouterWith } from './otel.js';

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const tracer = provider.getTracer('otel.cascade.hung');
afterEach(() => exporter.reset());

/** A weak engine whose generate() ignores the abort signal and answers only when released. */
class DeafEngine extends MockEngine {
  readonly held: Array<() => void> = [];
  override async generate(request: GenerateRequest, options: CallOptions = {}): Promise<GenerateResult> {
    await new Promise<void>((resolve) => this.held.push(resolve));
    return super.generate(request, { ...options, signal: undefined });
  }
}

function router(small: MockEngine | { baseURL: string }) {
  const engine: Record<string, MockEngine> = small instanceof MockEngine ? { small } : {};
  const model = small instanceof MockEngine ? { name: 'small', engine: 'mock' as const } : { name: 'small', engine: 'openai-compatible' as const, model: 'x', baseURL: small.baseURL, apiKey: 'k' };
  const r = new LLMRouter(
    {
      models: [
        { ...model, priority: 1 },
        { name: 'big', engine: 'mock', priority: 2 },
      ],
      routing: { strategy: 'priority', retries: { max: 0 }, cascades: [{ name: 'quick', weak: 'small', strong: 'big', verifier: 'judge', threshold: 0.5 }] },
    },
    { engines: { ...engine, big: new MockEngine({ modelId: 'big-model', reply: 'b' }) }, verifiers: { judge: () => 1 }, env: {} },
  );
  instrumentRouterWith(api, r, { tracer });
  return r;
}

async function cancelDuringWeak(r: LLMRouter, id: string): Promise<string[]> {
  const order: string[] = [];
  r.on('request:start', (e) => order.push(`start ${e.requestId}`));
  r.on('request:end', (e) => order.push(`end ${e.requestId}`));
  r.on('cascade:end', (e) => order.push(`cascade:end ${e.requestId}`));
  const stream = r.stream('question', { model: 'quick', requestId: id });
  stream.result.catch(() => {});
  const it = stream[Symbol.asyncIterator]();
  const first = it.next().catch(() => undefined);
  await vi.waitFor(() => expect(order).toContain(`start ${id}:weak`), { timeout: 10_000 });
  stream.cancel?.(new DOMException('This operation was aborted', 'AbortError'));
  await first;
  await expect(stream.result).rejects.toMatchObject({ code: 'aborted' });
  return order;
}

describe('cascade:end of a stream cancelled during its weak step', () => {
  it('a weak step over a hung upstream (accepts, never answers): the abort ends it, cascade:end comes', async () => {
    const server = await startLoopbackHttp(() => {
      /* never answers */
    });
    const baseURL = `${server.url}/v1`;
    const r = router({ baseURL });
    try {
      const order = await cancelDuringWeak(r, 'hung-1');
      await vi.waitFor(() => expect(order).toContain('cascade:end hung-1'), { timeout: 10_000 });
      expect(order).toEqual(['start hung-1:weak', 'end hung-1:weak', 'cascade:end hung-1']);
      await provider.forceFlush();
      const top = exporter.getFinishedSpans().filter((s) => s.attributes['llmrr.request_id'] === 'hung-1');
      expect(top).toHaveLength(1);
    } finally {
      await r.close();
      await server.close();
    }
  });

  it('a weak step whose strategy ranks with a promise that never settles (it ignores the abort): the cancel ends the step and the cascade span, aborted', async () => {
    const r = router(new MockEngine({ modelId: 'small-model' }));
    let ranked = 0;
    r.addStrategy('stuck', {
      name: 'stuck',
      rank: () => {
        ranked++;
        return new Promise(() => {});
      },
    });
    r.setStrategy('stuck');
    try {
      const order = await cancelDuringWeak(r, 'stuck-1');
      expect(ranked).toBe(1);
      await vi.waitFor(() => expect(order).toContain('cascade:end stuck-1'), { timeout: 10_000 });
      expect(order).toEqual(['start stuck-1:weak', 'end stuck-1:weak', 'cascade:end stuck-1']);
      await provider.forceFlush();
      const spans = exporter.getFinishedSpans().filter((s) => String(s.attributes['llmrr.request_id']).startsWith('stuck-1'));
      expect(spans.map((s) => [s.attributes['llmrr.request_id'], s.status.code, s.attributes['error.type']]).sort()).toEqual([
        ['stuck-1', api.SpanStatusCode.ERROR, 'aborted'],
        ['stuck-1:weak', api.SpanStatusCode.ERROR, 'aborted'],
      ]);
    } finally {
      await r.close();
    }
  });

  it('a weak step whose engine ignores the abort: the cascade span still ends when the consumer cancels (as before aa602a2)', async () => {
    const small = new DeafEngine({ modelId: 'small-model', reply: 'seven' });
    const r = router(small);
    try {
      const order = await cancelDuringWeak(r, 'deaf-1');
      // The stream's result was rejected (the consumer was told), but is the cascade's span ended?
      let sawEnd = true;
      try {
        await vi.waitFor(() => expect(order).toContain('cascade:end deaf-1'), { timeout: 3_000 });
      } catch {
        sawEnd = false;
      }
      await provider.forceFlush();
      const spans = exporter.getFinishedSpans().filter((s) => s.attributes['llmrr.request_id'] === 'deaf-1');
      // The request span ended with the consumer's cancel (the weak step's own span may stay open).
      expect({ sawEnd, ended: spans.length, order }).toEqual({ sawEnd: true, ended: 1, order: expect.arrayContaining(['cascade:end deaf-1']) });
    } finally {
      for (const release of small.held.splice(0)) release();
      await r.close();
    }
  });
});

