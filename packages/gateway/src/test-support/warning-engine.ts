import type { CallOptions, CallWarning, GenerateRequest, GenerateResult, StreamPart } from '@llmrr/core';
import type { MockEngineOptions } from '@llmrr/core/test';
import { MockEngineWrapper } from './mock-engine-wrapper.js';

/**
 * The mock engine's answers, with warnings about the request as an engine that maps it reports them (on the
 * result, and as a `warnings` part before the first content part): `system_message_hoisted` for each system
 * message after core's first message, and `last_message_noted` naming core's last message (so every route has a
 * `messages.N` to map to the client's). `extra` adds fixed warnings. For tests of what shows warnings (the gateway).
 */
export class WarningEngine extends MockEngineWrapper {
  constructor(
    options: MockEngineOptions = {},
    private readonly extra: CallWarning[] = [],
  ) {
    super(options);
  }

  warningsFor(request: GenerateRequest): CallWarning[] {
    const out: CallWarning[] = [];
    request.messages.forEach((m, i) => {
      if (m.role === 'system' && i > 0) out.push({ code: 'system_message_hoisted', field: `messages.${i}`, message: `messages.${i} was joined into the system prompt.` });
    });
    const last = request.messages.length - 1;
    out.push({ code: 'last_message_noted', field: `messages.${last}`, message: `messages.${last} noted.` });
    return [...out, ...this.extra];
  }

  async generate(request: GenerateRequest, options?: CallOptions): Promise<GenerateResult> {
    const { warnings: _none, ...result } = await this.inner.generate(request, options);
    return { ...result, warnings: this.warningsFor(request) };
  }

  async *stream(request: GenerateRequest, options?: CallOptions): AsyncIterable<StreamPart> {
    yield { type: 'warnings', warnings: this.warningsFor(request) };
    for await (const part of this.inner.stream(request, options)) if (part.type !== 'warnings') yield part;
  }
}
