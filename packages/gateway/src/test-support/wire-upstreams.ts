import {
  startAnthropicWireServer,
  startGeminiWireServer,
  startOpenAIWireServer,
  type AnthropicWireServer,
  type AnthropicWireServerOptions,
  type GeminiWireServer,
  type OpenAIWireServer,
} from '@llmrr/core/test';

/** The three local wire-format upstreams of the cross-provider SDK tests. */
export interface WireUpstreams {
  /** Key `ak`. */
  anthropic: AnthropicWireServer;
  openai: OpenAIWireServer;
  /** Key `gk`. */
  gemini: GeminiWireServer;
}

/** Starts an Anthropic- (key `ak`, more `anthropic` options), an OpenAI- and a Gemini-wire (key `gk`) upstream. */
export async function startWireUpstreams(anthropic: AnthropicWireServerOptions = {}): Promise<WireUpstreams> {
  const started = await Promise.allSettled([startAnthropicWireServer({ apiKey: 'ak', ...anthropic }), startOpenAIWireServer(), startGeminiWireServer({ apiKey: 'gk' })] as const);
  const [a, o, g] = started;
  if (a.status === 'fulfilled' && o.status === 'fulfilled' && g.status === 'fulfilled') return { anthropic: a.value, openai: o.value, gemini: g.value };
  // One did not start: close the others, then fail with the first reason.
  await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.close() : undefined)));
  throw started.find((s): s is PromiseRejectedResult => s.status === 'rejected')!.reason;
}
