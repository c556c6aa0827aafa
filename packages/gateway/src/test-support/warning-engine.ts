import type { CallOptions, CallWarning, GenerateRequest, GenerateResult, LanguageEngineV1, StreamPart } from '@llmrr/core';
import { MockEngine, type MockEngineOptions } from '@llmrr/core/test';

/**
 * The mock engine's answers, with warnings about the request as an engine that maps it reports them (on the
 * result, and as a `warnings` part before the first content part): `system_message_hoisted` for each system
 * message after core's first message, and `last_message_noted` naming core's last message (so every route has a
 * `messages.N` to map to the client's). `extra` adds fixed warnings. For tests of what shows warnings (the gateway).
 */
export class WarningEngine implements LanguageEngineV1 {
  readonly specVersion = 'v1';
  readonly provider = 'mock';
  readonly capabilities = { streaming: true, tools: true, json: true };
  readonly modelId: string;
  private readonly inner: MockEngine;

  constructor(
    options: MockEngineOptions = {},
    private readonly extra: CallWarning[] = [],
  ) {
    this.inner = new MockEngine(options);
    this.modelId = this.inner.modelId;
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
