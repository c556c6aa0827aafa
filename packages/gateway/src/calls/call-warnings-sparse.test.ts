import type { CallOptions, CallWarning, GenerateRequest, GenerateResult, LanguageEngineV1, StreamPart } from '@llmrr/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, mockModel, post, type Harness } from '../test-support/harness.js';

// Review of 027204f ("gateway warnings never fail an answered call (malformed engine warnings ...)").

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A plain-JS-style engine whose stream's warnings part carries `null` instead of a list (its result has none). */
class NullWarningsPartEngine implements LanguageEngineV1 {
  readonly specVersion = 'v1';
  readonly provider = 'mock';
  readonly modelId = 'null-part';
  readonly capabilities = { streaming: true, tools: true, json: true };

  async generate(_request: GenerateRequest, _options?: CallOptions): Promise<GenerateResult> {
    return { text: 'ok', toolCalls: [], finishReason: 'stop', usage: { inputTokens: 3, outputTokens: 1, totalTokens: 4 }, warnings: null as unknown as CallWarning[] };
  }

  async *stream(_request: GenerateRequest, _options?: CallOptions): AsyncIterable<StreamPart> {
    yield { type: 'warnings', warnings: null as unknown as CallWarning[] };
    yield { type: 'text-delta', delta: 'ok' };
    yield { type: 'finish', finishReason: 'stop', usage: { inputTokens: 3, outputTokens: 1, totalTokens: 4 } };
  }
}

/** A plain-JS-style engine whose warnings list is sparse (`new Array(2)` with only its last slot set). */
class SparseWarningsEngine implements LanguageEngineV1 {
  readonly specVersion = 'v1';
  readonly provider = 'mock';
  readonly modelId = 'sparse';
  readonly capabilities = { streaming: true, tools: true, json: true };

  private warnings(): CallWarning[] {
    const list = new Array<CallWarning>(2);
    list[1] = { code: 'custom_note', message: 'kept' };
    return list;
  }

  async generate(_request: GenerateRequest, _options?: CallOptions): Promise<GenerateResult> {
    return { text: 'ok', toolCalls: [], finishReason: 'stop', usage: { inputTokens: 3, outputTokens: 1, totalTokens: 4 }, warnings: this.warnings() };
  }

  async *stream(_request: GenerateRequest, _options?: CallOptions): AsyncIterable<StreamPart> {
    yield { type: 'warnings', warnings: this.warnings() };
    yield { type: 'text-delta', delta: 'ok' };
    yield { type: 'finish', finishReason: 'stop', usage: { inputTokens: 3, outputTokens: 1, totalTokens: 4 } };
  }
}

describe('x-llmrr-warnings: hostile warning lists never fail an answered call', () => {
  it('a sparse warnings array (a hole where a warning should be) still answers 200, JSON and stream', async () => {
    h = await createHarness({ models: [mockModel('m')], routerOptions: { env: {}, engines: { m: new SparseWarningsEngine() } } });
    for (const stream of [true, false]) {
      const res = await post(h.gateway, '/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'Hello' }], stream });
      const text = await res.text();
      expect(res.status, `stream=${stream}: ${text}`).toBe(200);
      expect(res.headers.get('x-llmrr-warnings')).toContain('custom_note');
    }
  });

  it('a stream whose warnings part is not a list (null) answers 200 as its JSON form does (openStream skips it; nothing else may throw on it)', async () => {
    h = await createHarness({ models: [mockModel('m')], routerOptions: { env: {}, engines: { m: new NullWarningsPartEngine() } } });
    for (const stream of [false, true]) {
      const res = await post(h.gateway, '/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'Hello' }], stream });
      const text = await res.text();
      expect(res.status, `stream=${stream}: ${text}`).toBe(200);
      expect(text).toContain('ok');
      expect(text).not.toContain('error');
    }
  });
});
