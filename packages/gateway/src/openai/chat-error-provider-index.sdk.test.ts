import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { overWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// An OpenAI deployment names a message in its 400s as `messages.[N].field` (e.g. `"param": "messages.[3].role"`
// for "messages with role 'tool' must be a response to a preceeding message with 'tool_calls'", as OpenAI answers
// it), and the OpenAI-compatible engine passes that `param` through. Its N is the OpenAI request's index, which
// is core's (the engine maps messages one to one). On /v1/chat/completions core's index is the client's, a marked
// system message included (it stays one message, its marked parts kept for Anthropic only); on /v1/messages the
// system prompt comes first, so core's N is one more than the client's and the answer must name the client's
// (schemas/client-message-paths.ts, found in review of a38df52, which matched `messages.N` only).

const wire = overWireUpstreams((u) => [wireDeployment(u, 'gpt')]);

/** The client's messages.3 is a tool message whose tool call the client never made (OpenAI refuses it). */
function body(mark: boolean): OpenAI.ChatCompletionCreateParamsNonStreaming {
  return {
    model: 'gpt',
    messages: [
      { role: 'system', content: [{ type: 'text', text: 'A long style guide.', ...(mark ? { cache_control: { type: 'ephemeral' } } : {}) }, { type: 'text', text: 'Today is Thursday.' }] },
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: 'Let me check.' },
      { role: 'tool', tool_call_id: 'call_1', content: 'Sunny' },
    ],
  } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming;
}

/** OpenAI's answer, naming the tool message by its index in the request it was sent. */
const refusal = (index: number) => ({
  error: {
    status: 400,
    message: "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
    type: 'invalid_request_error',
    param: `messages.[${index}].role`,
    code: null,
  },
});

describe('/v1/chat/completions: an OpenAI deployment\u2019s 400 (param messages.[N].field)', () => {
  it('names the client\u2019s message (messages.[3], the tool message) with and without a mark on a system part', async () => {
    // Unmarked: the deployment is sent the client's 4 messages; the tool message is its messages.[3].
    wire.upstreams.openai.setScript(refusal(3));
    const unmarked = await wire.gw.openai().chat.completions.create(body(false)).catch((e: unknown) => e);
    expect(unmarked).toMatchObject({ status: 400, param: 'messages.[3].role' });
    expect((wire.upstreams.openai.requests.at(-1)!.body as { messages: unknown[] }).messages).toHaveLength(4);

    // Marked on its first part: still one system message (a38df52 sent two, and the tool message was the
    // deployment's messages.[4], which it reported as it was: the client has no messages.4).
    const marked = await wire.gw.openai().chat.completions.create(body(true)).catch((e: unknown) => e);
    expect((wire.upstreams.openai.requests.at(-1)!.body as { messages: unknown[] }).messages).toHaveLength(4);
    expect(marked).toMatchObject({ status: 400, param: 'messages.[3].role' });
  });
});

describe('/v1/messages: an OpenAI deployment\u2019s 400 (param messages.[N].field) after the system prompt', () => {
  it('names the client\u2019s message (messages.1), not the deployment\u2019s (messages.[2]: the system prompt came first)', async () => {
    // The system prompt is the deployment's messages.[0], so the client's messages.1 is its messages.[2].
    wire.upstreams.openai.setScript(refusal(2));
    const refused = await wire.gw
      .anthropic()
      .messages.create({
        model: 'gpt',
        max_tokens: 50,
        system: 'A long style guide.',
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'Sunny' }] },
        ],
      })
      .catch((e: unknown) => e);
    expect((wire.upstreams.openai.requests.at(-1)!.body as { messages: Array<{ role: string }> }).messages.map((m) => m.role)).toEqual(['system', 'user', 'tool']);
    expect(refused).toMatchObject({ status: 400 });
    // In OpenAI's form, the client's index (a38df52: 'messages.[2].role', and the client's messages has no index 2).
    // The tool message is the client's tool_result block (its message's first).
    expect((refused as { error?: { error?: { param?: string } } }).error?.error?.param).toBe('messages.[1].content.[0].role');
  });
});
