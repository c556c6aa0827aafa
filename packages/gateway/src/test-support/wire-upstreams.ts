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
  const [a, o, g] = await Promise.all([startAnthropicWireServer({ apiKey: 'ak', ...anthropic }), startOpenAIWireServer(), startGeminiWireServer({ apiKey: 'gk' })]);
  return { anthropic: a, openai: o, gemini: g };
}
