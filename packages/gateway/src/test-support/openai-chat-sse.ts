// The OpenAI chat wire as a scripted upstream sends it (`OpenAIWireServer.setScript({ rawSSE })`): chunk
// frames of model `gpt-test`, tool-call deltas keyed by index, the usage chunk, and the same answer not streamed.

/** A chat.completion.chunk SSE frame. */
export function chatChunk(delta: unknown, finish: string | null = null): string {
  return `data: ${JSON.stringify({ id: 'chatcmpl-a1', object: 'chat.completion.chunk', created: 1, model: 'gpt-test', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
}

/** A tool-call delta piece; `start` (id and name) on the call's first piece. */
export function toolCallDelta(index: number, args: string, start?: { id: string; name: string }): Record<string, unknown> {
  return {
    index,
    ...(start ? { id: start.id, type: 'function' } : {}),
    function: { ...(start ? { name: start.name } : {}), arguments: args },
  };
}

export interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** The last chunk of a stream with `include_usage`: no choices, the usage. */
export function chatUsageChunk(usage: ChatUsage): string {
  return `data: ${JSON.stringify({ id: 'chatcmpl-a1', object: 'chat.completion.chunk', created: 1, model: 'gpt-test', choices: [], usage })}\n\n`;
}

export const CHAT_DONE = 'data: [DONE]\n\n';

/**
 * Text, then two get_weather calls (call_a Oslo, call_b Bergen) started together, their argument pieces
 * alternating (as OpenAI's chat wire allows: pieces are keyed by index); the finish, `tail` (a usage chunk,
 * say), then [DONE].
 */
export function interleavedWeatherCalls(tail = ''): string {
  return (
    chatChunk({ role: 'assistant', content: 'Checking both. ' }) +
    chatChunk({ tool_calls: [toolCallDelta(0, '', { id: 'call_a', name: 'get_weather' }), toolCallDelta(1, '', { id: 'call_b', name: 'get_weather' })] }) +
    chatChunk({ tool_calls: [toolCallDelta(0, '{"ci')] }) +
    chatChunk({ tool_calls: [toolCallDelta(1, '{"city":')] }) +
    chatChunk({ tool_calls: [toolCallDelta(0, 'ty":"Oslo"}')] }) +
    chatChunk({ tool_calls: [toolCallDelta(1, '"Bergen"}')] }) +
    chatChunk({}, 'tool_calls') +
    tail +
    CHAT_DONE
  );
}

/** A non-streamed chat.completion: `content`, then get_weather for Oslo (call_a) and Bergen (call_b). */
export function weatherCallsCompletion(content: string, usage: ChatUsage): Record<string, unknown> {
  return {
    id: 'chatcmpl-a2',
    object: 'chat.completion',
    created: 1,
    model: 'gpt-test',
    choices: [
      {
        index: 0,
        finish_reason: 'tool_calls',
        message: {
          role: 'assistant',
          content,
          tool_calls: [
            { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
            { id: 'call_b', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Bergen"}' } },
          ],
        },
      },
    ],
    usage,
  };
}
