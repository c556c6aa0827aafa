/**
 * A mock engine whose calls report a fixed usage (test-only: `*.test-helpers.ts` is left out of the build).
 */
import { MockEngine } from '../../engines/mock/mock-engine.js';
import type { CallOptions, GenerateRequest, GenerateResult, LanguageEngineV1, StreamPart, Usage } from '../../spec/index.js';

/**
 * The mock's answer `reply` with the given usage (a provider with prompt caching), generated and streamed (a
 * usage part, then the finish part with the same numbers, as the OpenAI-compatible decoder's usage chunk);
 * counts its calls.
 */
export class FixedUsageEngine implements LanguageEngineV1 {
  readonly specVersion = 'v1';
  readonly provider = 'mock';
  readonly capabilities = { streaming: true };
  private readonly inner: MockEngine;
  calls = 0;

  constructor(
    readonly modelId: string,
    reply: string,
    private readonly usage: Usage,
  ) {
    this.inner = new MockEngine({ modelId, reply });
  }

  async generate(request: GenerateRequest, options?: CallOptions): Promise<GenerateResult> {
    this.calls++;
    return { ...(await this.inner.generate(request, options)), usage: { ...this.usage } };
  }

  async *stream(request: GenerateRequest, options?: CallOptions): AsyncIterable<StreamPart> {
    this.calls++;
    for await (const part of this.inner.stream(request, options)) {
      if (part.type === 'finish') {
        yield { type: 'usage', usage: { ...this.usage } };
        yield { ...part, usage: { ...this.usage } };
      } else yield part;
    }
  }
}
