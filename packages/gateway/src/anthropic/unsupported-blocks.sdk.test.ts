import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { overWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// /v1/messages driven by the official @anthropic-ai/sdk client: a content block the gateway does not take (a PDF
// `document`, a `search_result` in a tool result) and an Anthropic server tool (`web_search_20250305`) are refused
// with a 400 that names the block's or tool's `type` and the type itself (not "messages.0.content: Invalid input" nor
// a missing input_schema); nothing reaches the upstream. Blocks and tools the gateway takes still pass.

const wire = overWireUpstreams((u) => [wireDeployment(u, 'claude')]);

const ask = { model: 'claude', max_tokens: 20, messages: [{ role: 'user' as const, content: 'Hi' }] };

type ErrorBody = { error: { message: string; param: string } };

async function refusal(body: Anthropic.MessageCreateParamsNonStreaming): Promise<ErrorBody['error']> {
  const err = await wire.gw
    .anthropic()
    .messages.create(body)
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(Anthropic.BadRequestError);
  expect(wire.upstreams.anthropic.requests).toHaveLength(0);
  return ((err as InstanceType<typeof Anthropic.BadRequestError>).error as ErrorBody).error;
}

describe('an unsupported content block or tool is refused by name', () => {
  it('a document block: the 400 names messages.0.content.1.type and the type "document"', async () => {
    const error = await refusal({
      ...ask,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Summarize this file' },
            { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0xLjQK' } },
          ],
        },
      ],
    });
    expect(error.param).toBe('messages.0.content.1.type');
    expect(error.message).toContain('"document" blocks are not supported');
  });

  it('a search_result block in a tool_result: the 400 names the block inside the tool result', async () => {
    const error = await refusal({
      ...ask,
      tools: [{ name: 'search', input_schema: { type: 'object' } }],
      messages: [
        { role: 'user', content: 'Look it up' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'search', input: {} }] },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'search_result', source: 'https://example.com', title: 'Example', content: [{ type: 'text', text: 'x' }] }] }],
        },
      ],
    });
    expect(error.param).toBe('messages.2.content.0.content.0.type');
    expect(error.message).toContain('"search_result" blocks are not supported');
  });

  it('a malformed block the gateway takes: the 400 names its field, not the whole content', async () => {
    const error = await refusal({ ...ask, messages: [{ role: 'user', content: [{ type: 'text', text: 5 as unknown as string }] }] });
    expect(error.param).toBe('messages.0.content.0.text');
  });

  it('a server tool (web_search_20250305): the 400 names tools.0.type and its type, not a missing input_schema', async () => {
    const error = await refusal({ ...ask, tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 3 }] });
    expect(error.param).toBe('tools.0.type');
    expect(error.message).toContain('"web_search_20250305" tools are not supported');
  });

  it('client tools (type "custom" or none) and text, tool_use and tool_result blocks pass', async () => {
    wire.upstreams.anthropic.enqueue({ content: 'Fine' });
    const message = await wire.gw.anthropic().messages.create({
      ...ask,
      tools: [{ type: 'custom', name: 'a', input_schema: { type: 'object' } }, { name: 'b', input_schema: { type: 'object' } }],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Call a' }] },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'a', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: 'done' }] }] },
      ],
    });
    expect(message.content).toEqual([{ type: 'text', text: 'Fine' }]);
    expect(wire.upstreams.anthropic.requests).toHaveLength(1);
  });
});
