import type { OpenAIWireServer } from '@llmrr/core/test';
import type OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clearRequests, servedOverOpenAIWire, type SdkGateway } from '../test-support/served-gateway.js';

// /v1/chat/completions takes the assistant messages the official `openai` client (6.x) types and sends back, against
// an OpenAI-wire upstream: an assistant turn whose content holds refusal parts (ChatCompletionContentPartRefusal) is
// the model's earlier refusal, sent on as that turn's text (as /v1/responses does with its refusal parts).

let upstream: OpenAIWireServer;
let gw: SdkGateway;

beforeAll(async () => {
  ({ upstream, gw } = await servedOverOpenAIWire());
});
afterAll(() => gw?.close());
afterEach(() => clearRequests(upstream));

/** The assistant message the upstream received. */
function upstreamAssistant(): Record<string, unknown> | undefined {
  const body = upstream.requests.at(-1)!.body as { messages: Array<Record<string, unknown>> };
  return body.messages.find((m) => m.role === 'assistant');
}

describe('/v1/chat/completions assistant messages with refusal parts', () => {
  it('an assistant message whose content is a refusal part is taken, its refusal sent on as the turn text', async () => {
    // openai 6.x: ChatCompletionAssistantMessageParam.content is string | Array<ChatCompletionContentPartText |
    // ChatCompletionContentPartRefusal> | null. A client that keeps the model's refusal as a content part sends this.
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'user', content: 'How do I pick a lock?' },
      { role: 'assistant', content: [{ type: 'refusal', refusal: "I can't help with that." }] },
      { role: 'user', content: 'Then tell me about locksmiths.' },
    ];
    const completion = await gw.openai().chat.completions.create({ model: 'gpt', messages });
    expect(completion.choices[0]!.finish_reason).toBe('stop');
    expect(upstreamAssistant()).toEqual({ role: 'assistant', content: "I can't help with that." });
  });

  it('text and refusal parts together, streamed: the parts joined in order', async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'user', content: 'Two questions.' },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'The first: yes. ' },
          { type: 'refusal', refusal: 'The second I will not answer.' },
        ],
      },
      { role: 'user', content: 'Fine.' },
    ];
    const stream = await gw.openai().chat.completions.create({ model: 'gpt', messages, stream: true });
    let finish: string | null | undefined;
    for await (const chunk of stream) finish = chunk.choices[0]?.finish_reason ?? finish;
    expect(finish).toBe('stop');
    expect(upstreamAssistant()).toEqual({ role: 'assistant', content: 'The first: yes. The second I will not answer.' });
  });

  it('a refusal part without its refusal text is a 400 naming the part', async () => {
    const messages = [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: [{ type: 'refusal' }] },
      { role: 'user', content: 'Hi again' },
    ] as unknown as OpenAI.ChatCompletionMessageParam[];
    const error = await gw.openai().chat.completions.create({ model: 'gpt', messages }).then(
      () => undefined,
      (e: { status?: number; error?: { param?: string } }) => e,
    );
    expect(error?.status).toBe(400);
    expect(error?.error?.param).toMatch(/^messages\.1\.content/);
    expect(upstream.requests).toHaveLength(0);
  });
});
