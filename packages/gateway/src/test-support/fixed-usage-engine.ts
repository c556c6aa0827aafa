import type { CallOptions, GenerateRequest, GenerateResult, StreamPart, Usage } from '@llmrr/core';
import type { MockEngineOptions } from '@llmrr/core/test';
import { MockEngineWrapper } from './mock-engine-wrapper.js';

/**
 * The mock engine's answers with a fixed usage, generated and streamed (a `usage` part just before the finish
 * part, both with the same numbers, as the OpenAI-compatible decoder sends a usage chunk; the Anthropic
 * decoder's `usage` part comes earlier, with `message_start`'s prompt counts and output 0): a provider reporting
 * prompt-cache reads and writes, for bookkeeping tests (ledger, metrics, invoices) that do not need the wire.
 */
export class FixedUsageEngine extends MockEngineWrapper {
  constructor(
    private readonly usage: Usage,
    options: MockEngineOptions = {},
  ) {
    super(options);
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
