import type { CallOptions, GenerateRequest, GenerateResult, LanguageEngineV1, StreamPart } from '@llmrr/core';
import { MockEngine, type MockEngineOptions } from '@llmrr/core/test';

/**
 * A test engine over the mock engine: the mock's identity (provider `mock`, streaming, tools, json, its modelId)
 * and `inner`, the MockEngine whose answers a subclass changes in `generate` and `stream`.
 */
export abstract class MockEngineWrapper implements LanguageEngineV1 {
  readonly specVersion = 'v1';
  readonly provider = 'mock';
  readonly capabilities = { streaming: true, tools: true, json: true };
  readonly modelId: string;
  protected readonly inner: MockEngine;

  constructor(options: MockEngineOptions = {}) {
    this.inner = new MockEngine(options);
    this.modelId = this.inner.modelId;
  }

  abstract generate(request: GenerateRequest, options?: CallOptions): Promise<GenerateResult>;
  abstract stream(request: GenerateRequest, options?: CallOptions): AsyncIterable<StreamPart>;
}
