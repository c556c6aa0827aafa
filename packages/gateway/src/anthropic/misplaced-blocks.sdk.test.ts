import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { overWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// /v1/messages driven by the official @anthropic-ai/sdk client: a block in a turn whose role does not take it (a
// `tool_use` in a user turn, an `image` or a `tool_result` in an assistant turn) is refused with a 400
// invalid_request_error naming `messages.N.content.K.type`, as Anthropic's API refuses it, instead of being dropped
// (the model would answer a conversation the client did not send); a `document` block, which the gateway does not
// take in any turn, is refused there by the same path. count_tokens refuses it the same way. Nothing
// reaches the upstream.

const wire = overWireUpstreams((u) => [wireDeployment(u, 'claude', { capabilities: ['chat', 'streaming', 'tools', 'vision'] })]);

const IMAGE = { type: 'image' as const, source: { type: 'base64' as const, media_type: 'image/png' as const, data: 'iVBORw0KGgo=' } };
const tools = [{ name: 'search', input_schema: { type: 'object' as const } }];

type Refusal = { type: string; message: string; param?: string };

async function refusal(messages: Anthropic.MessageParam[]): Promise<Refusal> {
  const e = await wire.gw
    .anthropic()
    .messages.create({ model: 'claude', max_tokens: 20, tools, messages })
    .then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(Anthropic.BadRequestError);
  const body = (e as InstanceType<typeof Anthropic.BadRequestError>).error as { type: string; error: Refusal };
  expect(body.type).toBe('error');
  expect(body.error.type).toBe('invalid_request_error');
  expect(wire.upstreams.anthropic.requests).toHaveLength(0);
  return body.error;
}

describe('a block in a turn that does not take it is refused by its path', () => {
  it('a tool_use block in a user turn: 400 naming messages.0.content.1.type', async () => {
    const error = await refusal([{ role: 'user', content: [{ type: 'text', text: 'Hi' }, { type: 'tool_use', id: 'toolu_1', name: 'search', input: {} }] }]);
    expect(error.param).toBe('messages.0.content.1.type');
    expect(error.message).toContain('messages.0.content.1.type: a tool_use block belongs in an assistant message, not a user message');
  });

  it('an image block in an assistant turn: 400 naming messages.1.content.0.type', async () => {
    const error = await refusal([
      { role: 'user', content: 'Draw a cat' },
      { role: 'assistant', content: [IMAGE, { type: 'text', text: 'Here it is' }] },
      { role: 'user', content: 'Thanks' },
    ]);
    expect(error.param).toBe('messages.1.content.0.type');
    expect(error.message).toContain('messages.1.content.0.type: an image block belongs in a user message, not an assistant message');
  });

  it('a document block in an assistant turn: 400 naming messages.1.content.1.type (documents are refused in any turn)', async () => {
    const document = { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'A cat.' } } as unknown as Anthropic.TextBlockParam;
    const error = await refusal([
      { role: 'user', content: 'Write it down' },
      { role: 'assistant', content: [{ type: 'text', text: 'Here:' }, document] },
      { role: 'user', content: 'Thanks' },
    ]);
    expect(error.param).toBe('messages.1.content.1.type');
    expect(error.message).toContain('"document" blocks are not supported');
  });

  it('a tool_result block in an assistant turn: 400 naming messages.1.content.1.type', async () => {
    const error = await refusal([
      { role: 'user', content: 'Look it up' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'search', input: {} }, { type: 'tool_result', tool_use_id: 'toolu_1', content: 'found' }] },
    ]);
    expect(error.param).toBe('messages.1.content.1.type');
    expect(error.message).toContain('a tool_result block belongs in a user message, not an assistant message');
  });

  it('count_tokens refuses the same body the same way', async () => {
    const e = await wire.gw
      .anthropic()
      .messages.countTokens({ model: 'claude', tools, messages: [{ role: 'user', content: [{ type: 'tool_use', id: 'toolu_1', name: 'search', input: {} }] }] })
      .then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(Anthropic.BadRequestError);
    expect((e as InstanceType<typeof Anthropic.BadRequestError>).error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', param: 'messages.0.content.0.type' } });
    expect(wire.upstreams.anthropic.requests).toHaveLength(0);
  });

  it('blocks in their own turns still pass: the upstream gets the user image and the assistant tool_use', async () => {
    wire.upstreams.anthropic.enqueue({ content: 'Done' });
    const message = await wire.gw.anthropic().messages.create({
      model: 'claude',
      max_tokens: 20,
      tools,
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'What is this?' }, IMAGE] },
        { role: 'assistant', content: [{ type: 'text', text: 'Let me search.' }, { type: 'tool_use', id: 'toolu_1', name: 'search', input: { q: 'cat' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'a cat' }] },
      ],
    });
    expect(message.content).toEqual([{ type: 'text', text: 'Done' }]);
    const sent = wire.upstreams.anthropic.requests[0]!.body as { messages: Array<{ role: string; content: Array<{ type: string }> }> };
    expect(sent.messages.map((m) => [m.role, m.content.map((b) => b.type)])).toEqual([
      ['user', ['text', 'image']],
      ['assistant', ['text', 'tool_use']],
      ['user', ['tool_result']],
    ]);
  });
});
