import { describe, expect, it } from 'vitest';
import type { ChatMessage, GenerateRequest } from '../../spec/index.js';
import { estimateAnthropicTokens } from './estimate-anthropic-tokens.js';
import { useAnthropicWireServer } from './anthropic-wire.test-helpers.js';

// A tool message as an Anthropic `tool_result`: its `parts` (text and images, in order) as the block's content
// blocks, `isError` as `is_error`; without parts its text, as always. Against a local peer speaking the Messages
// wire format.

const wire = useAnthropicWireServer();
const { engine, lastBody } = wire;

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

function toolTurn(result: Omit<Extract<ChatMessage, { role: 'tool' }>, 'role' | 'toolCallId'>): GenerateRequest {
  return {
    messages: [
      { role: 'user', content: 'Take a screenshot' },
      { role: 'assistant', content: null, toolCalls: [{ id: 'toolu_1', name: 'screenshot', arguments: '{}' }] },
      { role: 'tool', toolCallId: 'toolu_1', ...result },
    ],
    tools: [{ name: 'screenshot', parameters: { type: 'object', properties: {} } }],
  };
}

/** The tool_result block the server received. */
function sentToolResult(): unknown {
  const messages = lastBody().messages as Array<{ role: string; content: Array<{ type: string }> }>;
  return messages.at(-1)!.content.find((b) => b.type === 'tool_result');
}

describe('anthropic: tool results', () => {
  it('text only: the content string; isError true as is_error', async () => {
    await engine().generate(toolTurn({ content: 'ENOENT: display not found', isError: true }));
    expect(sentToolResult()).toEqual({ type: 'tool_result', tool_use_id: 'toolu_1', content: 'ENOENT: display not found', is_error: true });
    await engine().generate(toolTurn({ content: 'ok', isError: false }));
    expect(sentToolResult()).toEqual({ type: 'tool_result', tool_use_id: 'toolu_1', content: 'ok' });
  });

  // Anthropic refuses `is_error: true` with empty content (400 "content cannot be empty if `is_error` is true").
  it.each([
    ['content ""', { content: '' }],
    ['content of blanks', { content: ' \n' }],
    ['parts []', { content: '', parts: [] }],
    ['only empty text parts', { content: '', parts: [{ type: 'text' as const, text: '' }] }],
  ])('an error result with no content (%s) is sent as "Error", with is_error, to messages and count_tokens', async (_, result) => {
    const e = engine({ options: { exactTokenCount: true } });
    const req = toolTurn({ ...result, isError: true });
    await e.generate(req);
    expect(sentToolResult()).toEqual({ type: 'tool_result', tool_use_id: 'toolu_1', content: 'Error', is_error: true });
    await e.countTokens(req);
    expect(wire.server.requests.at(-1)!.path).toBe('/v1/messages/count_tokens');
    expect(sentToolResult()).toEqual({ type: 'tool_result', tool_use_id: 'toolu_1', content: 'Error', is_error: true });
  });

  it('an empty result that is not an error is sent as it is (Anthropic takes it)', async () => {
    await engine().generate(toolTurn({ content: '' }));
    expect(sentToolResult()).toEqual({ type: 'tool_result', tool_use_id: 'toolu_1', content: '' });
  });

  it('parts: text and image blocks in order (an empty text part left out), the message mark on the tool_result', async () => {
    const result = await engine().generate(
      toolTurn({
        content: 'Here it is:\n\nthat was the screen',
        parts: [
          { type: 'text', text: 'Here it is:' },
          { type: 'text', text: '' },
          { type: 'image', data: PNG, mediaType: 'image/png' },
          { type: 'image', url: `data:image/png;base64,${PNG}` },
          { type: 'text', text: 'that was the screen' },
        ],
        cacheControl: { type: 'ephemeral' },
      }),
    );
    const image = { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } };
    expect(sentToolResult()).toEqual({
      type: 'tool_result',
      tool_use_id: 'toolu_1',
      content: [{ type: 'text', text: 'Here it is:' }, image, image, { type: 'text', text: 'that was the screen' }],
      cache_control: { type: 'ephemeral' },
    });
    expect(result.warnings).toBeUndefined();
  });

  it("a part's own mark is not sent: dropped with a warning naming it", async () => {
    const result = await engine().generate(toolTurn({ content: 'a\nb', parts: [{ type: 'text', text: 'a', cacheControl: { type: 'ephemeral' } }, { type: 'text', text: 'b' }] }));
    expect(sentToolResult()).toEqual({ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] });
    expect(result.warnings).toEqual([expect.objectContaining({ code: 'cache_control_dropped', field: 'messages.2.parts.0.cacheControl' })]);
  });

  it('an image part without data or url is a 400 naming it', async () => {
    await expect(engine().generate(toolTurn({ content: '', parts: [{ type: 'image' }] }))).rejects.toMatchObject({ code: 'invalid_request', param: 'messages.2.parts.0' });
  });

  it('the local estimate counts a tool result image at Anthropic\u2019s cap', () => {
    const textOnly = estimateAnthropicTokens(toolTurn({ content: 'Here it is:' }));
    const withImage = estimateAnthropicTokens(toolTurn({ content: 'Here it is:', parts: [{ type: 'text', text: 'Here it is:' }, { type: 'image', data: PNG, mediaType: 'image/png' }] }));
    expect(withImage - textOnly).toBe(1_600);
  });
});

describe('anthropic: tool call arguments', () => {
  const withArgs = (args: string): GenerateRequest => ({
    messages: [
      { role: 'user', content: 'Go' },
      { role: 'assistant', content: null, toolCalls: [{ id: 'toolu_1', name: 'f', arguments: args }] },
      { role: 'tool', toolCallId: 'toolu_1', content: 'r' },
    ],
    tools: [{ name: 'f', parameters: { type: 'object', properties: {} } }],
  });

  // tool_use.input is an object on Anthropic's API; OpenAI takes any text as arguments (a call cut by max_tokens, a small
  // model's malformed one): such text goes as `{ _raw }` with a warning, so the history never makes every later turn a 400.
  it.each(['{"city": "Os', '[1,2]', '"str"', '3', 'null', 'true'])('%s (not a JSON object): sent as { _raw: text }, with a setting_changed warning', async (args) => {
    const result = await engine().generate(withArgs(args));
    const turn = (lastBody().messages as Array<{ content: Array<{ type: string; input?: unknown }> }>)[1]!;
    expect(turn.content.find((b) => b.type === 'tool_use')?.input).toEqual({ _raw: args });
    expect(result.warnings).toEqual([{ code: 'setting_changed', field: 'messages.1.toolCalls.0.arguments', message: expect.stringContaining('{"_raw": <the text>}') }]);
  });

  it('an object is sent as tool_use.input; empty arguments as {}', async () => {
    for (const [args, input] of [['{"x":1}', { x: 1 }], ['', {}]] as const) {
      await engine().generate(withArgs(args));
      const turn = (lastBody().messages as Array<{ content: Array<{ type: string; input?: unknown }> }>)[1]!;
      expect(turn.content.find((b) => b.type === 'tool_use')?.input).toEqual(input);
    }
  });
});
