import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { readWarnings } from '../test-support/read-warnings.js';
import { overWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// From the review of 027204f ("Responses function_call items named by their own item, with that item's field names"): a
// function_call_output item is core's tool message, whose `toolCallId` is the item's `call_id` (as a function_call's
// core `id` is already named `call_id`). The Gemini engine refuses a tool result that answers no earlier call
// (Gemini needs the function's name) with param `messages.N.toolCallId`. A function_call_output's `output` may hold
// images (a screenshot tool's): core's tool message `parts`, sent as the tool_result's blocks to Anthropic, and named
// `input.M.output.K` in the warning of an engine that takes only text.

const wire = overWireUpstreams((u) => [
    wireDeployment(u, 'gem'),
    wireDeployment(u, 'gpt', { capabilities: ['chat', 'streaming', 'tools', 'vision'] }),
    wireDeployment(u, 'claude', { capabilities: ['chat', 'streaming', 'tools', 'vision'] }),
  ]);

const TOOLS: OpenAI.Responses.Tool[] = [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false }];

describe('/v1/responses: errors about a function_call_output item use the item\u2019s field names', () => {
  it('core messages.N.toolCallId of a function_call_output item is input.M.call_id (the item has no toolCallId)', async () => {
    const input = [
      { role: 'user', content: 'Weather in Paris?' },
      { type: 'function_call_output', call_id: 'call_unknown', output: 'Sunny' },
    ];
    const error = (await wire.gw
      .openai()
      .responses.create({ model: 'gem', tools: TOOLS, input } as unknown as OpenAI.Responses.ResponseCreateParamsNonStreaming)
      .catch((e: unknown) => e)) as { status?: number; param?: string | null; message: string };
    expect(error).toBeInstanceOf(Error);
    expect(error.status).toBe(400);
    expect(error.param).toBe('input.1.call_id');
  });

  it('OpenAI\u2019s messages[N].content of a function_call_output item is input[M].output (the item\u2019s text is its output)', async () => {
    // OpenAI's 400 for a content too long (code string_above_max_length) names the message's content.
    wire.upstreams.openai.setScript({
      error: {
        status: 400,
        message: "Invalid 'messages[2].content': string too long. Expected a string with maximum length 10485760, but got a string with length 10485761 instead.",
        type: 'invalid_request_error',
        param: 'messages[2].content',
        code: 'string_above_max_length',
      },
    });
    // core: [input.0 user, input.1 assistant turn of the call, input.2 tool result]
    const input = [
      { role: 'user', content: 'Weather in Paris?' },
      { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
      { type: 'function_call_output', call_id: 'call_1', output: 'Sunny' },
    ];
    const error = (await wire.gw
      .openai()
      .responses.create({ model: 'gpt', tools: TOOLS, input } as unknown as OpenAI.Responses.ResponseCreateParamsNonStreaming)
      .catch((e: unknown) => e)) as { status?: number; param?: string | null; message: string };
    expect(error).toBeInstanceOf(Error);
    expect(error.status).toBe(400);
    expect(error.param).toBe('input[2].output');
  });
});

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

describe('/v1/responses: an image in a function_call_output', () => {
  const screenshot: OpenAI.Responses.Tool[] = [{ type: 'function', name: 'screenshot', parameters: { type: 'object', properties: {} }, strict: false }];
  const input = (model: string): OpenAI.Responses.ResponseCreateParamsNonStreaming => ({
    model,
    tools: screenshot,
    input: [
      { role: 'user', content: 'What is on the screen?' },
      { type: 'function_call', call_id: 'toolu_1', name: 'screenshot', arguments: '{}' },
      { type: 'function_call_output', call_id: 'toolu_1', output: [{ type: 'input_text', text: 'The screen:' }, { type: 'input_image', image_url: `data:image/png;base64,${PNG}`, detail: 'auto' }] },
    ],
  });

  it('reaches an Anthropic deployment as the tool_result\'s text and image blocks, in order', async () => {
    const before = wire.upstreams.anthropic.requests.length;
    const answer = await wire.gw.openai().responses.create(input('claude'));
    expect(answer.status).toBe('completed');
    const body = wire.upstreams.anthropic.requests[before]!.body as { messages: Array<{ content: Array<{ type: string; content?: unknown }> }> };
    expect(body.messages[2]!.content[0]!.content).toEqual([
      { type: 'text', text: 'The screen:' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
    ]);
  });

  it('an engine that takes only text in a tool result gets the text and warns about the image by its part, input.2.output.1', async () => {
    wire.upstreams.openai.setScript({ text: 'A screen.' });
    const before = wire.upstreams.openai.requests.length;
    const { data, response } = await wire.gw.openai().responses.create(input('gpt')).withResponse();
    expect(data.output_text).toBe('A screen.');
    const tool = (wire.upstreams.openai.requests[before]!.body as { messages: Array<{ role: string; content?: unknown }> }).messages[2];
    expect(tool).toMatchObject({ role: 'tool', content: 'The screen:' });
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toEqual([['setting_not_sent', 'input.2.output.1']]);
  });
});
