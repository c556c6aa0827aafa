import { startOpenAIWireServer, type OpenAIWireScript, type OpenAIWireServer, type RecordedRequest } from '@llmrr/core/test';
import { servedGateway, type SdkGateway } from './served-gateway.js';

/**
 * DeepSeek's thinking-mode check as an OpenAI-wire script: every assistant turn with tool calls after the last user
 * message must carry its `reasoning_content` (else its 400). Asked about the weather in Paris it calls `weather`
 * (id `call_w1`) with reasoning "I need the weather tool."; given the tool's answer it says "It is sunny in Paris.".
 */
export function deepseekThinking(request: RecordedRequest): OpenAIWireScript {
  const messages = (request.body as { messages?: Array<Record<string, unknown>> }).messages ?? [];
  const lastUser = messages.map((m) => m.role).lastIndexOf('user');
  const bad = messages.slice(lastUser + 1).some((m) => m.role === 'assistant' && Array.isArray(m.tool_calls) && typeof m.reasoning_content !== 'string');
  if (bad) return { error: { status: 400, message: 'The reasoning_content in the thinking mode must be passed back to the API.', type: 'invalid_request_error' } };
  return messages.some((m) => m.role === 'tool')
    ? { reasoning: 'The tool says sunny.', text: 'It is sunny in Paris.' }
    : { reasoning: 'I need the weather tool.', text: '', toolCalls: [{ id: 'call_w1', name: 'weather', arguments: '{"city":"Paris"}' }] };
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
