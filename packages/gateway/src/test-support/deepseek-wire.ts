import { startOpenAIWireServer, type OpenAIWireScript, type OpenAIWireServer, type RecordedRequest } from '@llmrr/core/test';
import { servedGateway, type SdkGateway } from './served-gateway.js';

/**
 * DeepSeek's thinking-mode rule (its Thinking Mode guide; MoonshotAI/kimi-cli#2141): when tool calls happen between
 * two user messages (or after the last one), every assistant message between them, the text answer after the tool
 * results included, carries its `reasoning_content` (a string, "" taken), in every later request. True when the
 * `messages` break it (DeepSeek's 400).
 */
export function breaksDeepSeekThinking(messages: ReadonlyArray<Record<string, unknown>>): boolean {
  let span: Array<Record<string, unknown>> = [];
  const spans = [span];
  for (const m of messages) {
    if (m.role === 'user') spans.push((span = []));
    else if (m.role === 'assistant') span.push(m);
  }
  return spans.some((s) => s.some((m) => Array.isArray(m.tool_calls) && m.tool_calls.length > 0) && s.some((m) => typeof m.reasoning_content !== 'string'));
}

/**
 * DeepSeek's thinking mode as an OpenAI-wire script: a request that breaks its rule (`breaksDeepSeekThinking`) gets
 * its 400. Asked about the weather in Paris it calls `weather` (id `call_w1`) with reasoning "I need the weather
 * tool."; given the tool's answer (the last message) it says "It is sunny in Paris."; asked again after that (a
 * second user message) "Sunny tomorrow too.".
 */
export function deepseekThinking(request: RecordedRequest): OpenAIWireScript {
  const messages = (request.body as { messages?: Array<Record<string, unknown>> }).messages ?? [];
  if (breaksDeepSeekThinking(messages)) return { error: { status: 400, message: 'The reasoning_content in the thinking mode must be passed back to the API.', type: 'invalid_request_error' } };
  if (messages.at(-1)?.role === 'tool') return { reasoning: 'The tool says sunny.', text: 'It is sunny in Paris.' };
  if (messages.filter((m) => m.role === 'user').length > 1) return { reasoning: 'Same tool answer.', text: 'Sunny tomorrow too.' };
  return { reasoning: 'I need the weather tool.', text: '', toolCalls: [{ id: 'call_w1', name: 'weather', arguments: '{"city":"Paris"}' }] };
}

/** A served gateway with one `deepseek` deployment `ds` over an OpenAI-wire upstream scripted by deepseekThinking. */
export async function servedOverDeepSeekWire(): Promise<{ upstream: OpenAIWireServer; gw: SdkGateway }> {
  const upstream = await startOpenAIWireServer({ script: deepseekThinking });
  const gw = await servedGateway({
    models: [{ name: 'ds', engine: 'openai-compatible', preset: 'deepseek', baseURL: upstream.baseURL, model: 'deepseek-v4-pro', apiKey: 'k', capabilities: ['chat', 'streaming', 'tools', 'reasoning'] }],
    upstreams: [upstream],
  });
  return { upstream, gw };
}
