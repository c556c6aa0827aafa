import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { claudeOverWire } from '../test-support/claude-over-wire.js';
import { readWarnings } from '../test-support/read-warnings.js';

// /v1/responses: the client's messages are its `input` items (and `instructions`), so an engine's 400 or warning about
// core's `messages.N` names the item the message came from: `instructions` first shifts core's indexes by one, reasoning
// items make no core message, a function_call after an assistant message joins that message's turn, and core's
// `messages.N.toolCalls.K...` names the function_call item of that call (`input.M.arguments`).

const wire = claudeOverWire();

const TOOLS: OpenAI.Responses.Tool[] = [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false }];
const BAD_CALL = { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":' };
const OUTPUT = { type: 'function_call_output', call_id: 'call_1', output: 'Sunny' };

/** The fields `x-llmrr-warnings` names for the call's `setting_changed` warnings (arguments that are not a JSON object). */
async function changedFields(body: Record<string, unknown>): Promise<unknown[]> {
  const { response } = await wire.gw
    .openai()
    .responses.create({ model: 'claude', tools: TOOLS, ...body } as unknown as OpenAI.Responses.ResponseCreateParamsNonStreaming)
    .withResponse();
  return readWarnings(response.headers.get('x-llmrr-warnings'))
    .filter(([code]) => code === 'setting_changed')
    .map(([, field]) => field);
}

/** The `input` of the last tool_use block Anthropic got. */
function lastToolUseInput(): unknown {
  const messages = wire.claudeUp.requests.at(-1)!.body!.messages as Array<{ content: Array<{ type: string; input?: unknown }> | string }>;
  const blocks = messages.flatMap((m) => (typeof m.content === 'string' ? [] : m.content));
  return blocks.filter((b) => b.type === 'tool_use').at(-1)?.input;
}

describe('/v1/responses: what core says about a message names its input item', () => {
  // The arguments that are not JSON go to Anthropic as `{ _raw }`, with a warning naming the call's arguments.
  it('instructions and two reasoning items before the call: core messages.2.toolCalls.0 is input.3 (the function_call item)', async () => {
    // core: [instructions, input.0, input.3 (assistant turn of the call), input.4 (tool result)]
    const fields = await changedFields({
      instructions: 'Be brief.',
      input: [{ role: 'user', content: 'Weather in Paris?' }, { type: 'reasoning', id: 'rs_1', summary: [] }, { type: 'reasoning', id: 'rs_2', summary: [] }, BAD_CALL, OUTPUT],
    });
    expect(fields).toEqual(['input.3.arguments']);
    expect(lastToolUseInput()).toEqual({ _raw: '{"city":' });
  });

  it('a function_call joining the assistant message before it is named by its own item, not the message\u2019s; streamed, the same', async () => {
    // core: [instructions, input.0, input.1 + the call of input.2, input.3]
    const input = [{ role: 'user', content: 'Weather in Paris?' }, { role: 'assistant', content: 'Let me check.' }, BAD_CALL, OUTPUT];
    expect(await changedFields({ instructions: 'Be brief.', input })).toEqual(['input.2.arguments']);
    const { data, response } = await wire.gw
      .openai()
      .responses.create({ model: 'claude', tools: TOOLS, instructions: 'Be brief.', input, stream: true } as unknown as OpenAI.Responses.ResponseCreateParamsStreaming)
      .withResponse();
    for await (const _ of data);
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toContainEqual(['setting_changed', 'input.2.arguments']);
  });

  it('without instructions core\u2019s index is the item\u2019s only when nothing before it was dropped or joined', async () => {
    expect(await changedFields({ input: [{ role: 'user', content: 'Weather in Paris?' }, BAD_CALL, OUTPUT] })).toEqual(['input.1.arguments']);
    expect(await changedFields({ input: [{ type: 'reasoning', id: 'rs_1', summary: [] }, { role: 'user', content: 'Weather in Paris?' }, BAD_CALL, OUTPUT] })).toEqual(['input.2.arguments']);
  });
});

describe('/v1/responses: parallel function calls (one core assistant message, its toolCalls 0, 1, ...)', () => {
  // First written as a review test of 3495f4a, which named the first call's item for the second call's arguments.
  it('a warning about the second of two parallel function_call items names that item (input.2), not the first (input.1)', async () => {
    // core: [input.0 user, assistant { toolCalls: [input.1, input.2] }, tool (input.3), tool (input.4)]
    const input = [
      { role: 'user', content: 'Weather in Paris and Rome?' },
      { type: 'function_call', call_id: 'call_a', name: 'get_weather', arguments: '{"city":"Paris"}' },
      { ...BAD_CALL, call_id: 'call_b' },
      { type: 'function_call_output', call_id: 'call_a', output: 'Sunny' },
      { type: 'function_call_output', call_id: 'call_b', output: 'Rainy' },
    ];
    // The arguments that are not JSON are those of input.2; input.1's are valid JSON.
    expect(await changedFields({ input })).toEqual(['input.2.arguments']);
  });
});

describe('/v1/responses: function_call arguments that are JSON but not an object', () => {
  // Anthropic's tool_use.input is an object: the text goes as `{ _raw }` (as OpenAI takes any text), never refused:
  // a history holding such a call would be refused on every later turn.
  it.each(['[1,2]', '"str"', '3'])('%s: sent as { _raw }, with a warning naming input.1.arguments', async (args) => {
    expect(await changedFields({ input: [{ role: 'user', content: 'Weather in Paris?' }, { ...BAD_CALL, arguments: args }, OUTPUT] })).toEqual(['input.1.arguments']);
    expect(lastToolUseInput()).toEqual({ _raw: args });
  });
});
