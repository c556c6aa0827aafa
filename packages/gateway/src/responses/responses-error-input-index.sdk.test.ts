import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { claudeOverWire } from '../test-support/claude-over-wire.js';

// /v1/responses: the client's messages are its `input` items (and `instructions`), so an engine's 400 about core's
// `messages.N` names the item the message came from: `instructions` first shifts core's indexes by one, reasoning
// items make no core message, a function_call after an assistant message joins that message's turn, and core's
// `messages.N.toolCalls.K...` names the function_call item of that call (`input.M.arguments`).

const wire = claudeOverWire();

const TOOLS: OpenAI.Responses.Tool[] = [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false }];
const BAD_CALL = { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":' };
const OUTPUT = { type: 'function_call_output', call_id: 'call_1', output: 'Sunny' };

async function refusal(body: Record<string, unknown>): Promise<{ status?: number; param?: string | null; message: string }> {
  const error = await wire.gw
    .openai()
    .responses.create({ model: 'claude', tools: TOOLS, ...body } as unknown as OpenAI.Responses.ResponseCreateParamsNonStreaming)
    .catch((e: unknown) => e as { status?: number; param?: string | null; message: string });
  expect(error).toBeInstanceOf(Error);
  return error as { status?: number; param?: string | null; message: string };
}

describe('/v1/responses: errors about a message name its input item', () => {
  it('instructions and two reasoning items before the call: core messages.2.toolCalls.0 is input.3 (the function_call item)', async () => {
    // core: [instructions, input.0, input.3 (assistant turn of the call), input.4 (tool result)]
    const error = await refusal({
      instructions: 'Be brief.',
      input: [{ role: 'user', content: 'Weather in Paris?' }, { type: 'reasoning', id: 'rs_1', summary: [] }, { type: 'reasoning', id: 'rs_2', summary: [] }, BAD_CALL, OUTPUT],
    });
    expect(error).toMatchObject({ status: 400, param: 'input.3.arguments' });
    expect(error.message).toContain('input.3.arguments');
    expect(error.message).not.toContain('messages.');
    expect(wire.claudeUp.requests).toHaveLength(0);
  });

  it('a function_call joining the assistant message before it is named by its own item, not the message\u2019s; streamed, the same 400 before the stream opens', async () => {
    // core: [instructions, input.0, input.1 + the call of input.2, input.3]
    const input = [{ role: 'user', content: 'Weather in Paris?' }, { role: 'assistant', content: 'Let me check.' }, BAD_CALL, OUTPUT];
    const error = await refusal({ instructions: 'Be brief.', input });
    expect(error).toMatchObject({ status: 400, param: 'input.2.arguments' });
    expect(error.message).toContain('input.2.arguments is not valid JSON');
    expect(error.message).not.toContain('input.1');
    const streamed = await wire.gw
      .openai()
      .responses.create({ model: 'claude', tools: TOOLS, instructions: 'Be brief.', input, stream: true } as unknown as OpenAI.Responses.ResponseCreateParamsStreaming)
      .catch((e: unknown) => e);
    expect(streamed).toMatchObject({ status: 400, param: 'input.2.arguments' });
  });

  it('without instructions core\u2019s index is the item\u2019s only when nothing before it was dropped or joined', async () => {
    expect(await refusal({ input: [{ role: 'user', content: 'Weather in Paris?' }, BAD_CALL, OUTPUT] })).toMatchObject({ status: 400, param: 'input.1.arguments' });
    expect(await refusal({ input: [{ type: 'reasoning', id: 'rs_1', summary: [] }, { role: 'user', content: 'Weather in Paris?' }, BAD_CALL, OUTPUT] })).toMatchObject({
      status: 400,
      param: 'input.2.arguments',
    });
  });
});

describe('/v1/responses: function_call arguments that are JSON but not an object', () => {
  // Anthropic's tool_use.input is an object: refused before the call naming the item (as Gemini refuses them), never
  // sent on as `input: [1,2]` for Anthropic to refuse after a paid round trip.
  it.each(['[1,2]', '"str"', '3'])('%s: a 400 naming input.1.arguments, nothing sent upstream', async (args) => {
    const error = await refusal({ input: [{ role: 'user', content: 'Weather in Paris?' }, { ...BAD_CALL, arguments: args }, OUTPUT] });
    expect(error).toMatchObject({ status: 400, param: 'input.1.arguments' });
    expect(error.message).toContain('input.1.arguments must be a JSON object');
    expect(wire.claudeUp.requests).toHaveLength(0);
  });
});
