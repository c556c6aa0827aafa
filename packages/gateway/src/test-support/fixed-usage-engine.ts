import type { CallOptions, GenerateRequest, GenerateResult, LanguageEngineV1, StreamPart, Usage } from '@llmrr/core';
import { MockEngine, type MockEngineOptions } from '@llmrr/core/test';

/**
 * The mock engine's answers with a fixed usage, generated and streamed (a `usage` part just before the finish
 * part, both with the same numbers, as the OpenAI-compatible decoder sends a usage chunk; the Anthropic
 * decoder's `usage` part comes earlier, with `message_start`'s prompt counts and output 0): a provider reporting
 * prompt-cache reads and writes, for bookkeeping tests (ledger, metrics, invoices) that do not need the wire.
 */
export class FixedUsageEngine implements LanguageEngineV1 {
  readonly specVersion = 'v1';
  readonly provider = 'mock';
  readonly capabilities = { streaming: true, tools: true, json: true };
  readonly modelId: string;
  private readonly inner: MockEngine;

  constructor(
    private readonly usage: Usage,
    options: MockEngineOptions = {},
  ) {
    this.inner = new MockEngine(options);
    this.modelId = this.inner.modelId;
  }

  async generate(request: GenerateRequest, options?: CallOptions): Promise<GenerateResult> {
    return { ...(await this.inner.generate(request, options)), usage: { ...this.usage } };
  }

  async *stream(request: GenerateRequest, options?: CallOptions): AsyncIterable<StreamPart> {
    for await (const part of this.inner.stream(request, options)) {
      if (part.type !== 'finish') yield part;
      else {
        yield { type: 'usage', usage: { ...this.usage } };
        yield { ...part, usage: { ...this.usage } };
      }
    }
  }
}
