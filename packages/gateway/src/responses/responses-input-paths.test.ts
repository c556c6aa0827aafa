import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { claudeOverWire } from '../test-support/claude-over-wire.js';

// Review of 3495f4a: /v1/responses maps core's `messages.N` to the input item the core message came from. Parallel
// function_call items all join one core assistant message (its toolCalls 0, 1, ...), so an error about the second
// call (core `messages.1.toolCalls.1.arguments`) is named after the FIRST call's item (`input.1...`): the client is
// sent to an item that is fine, and its item with the bad arguments (`input.2`) is never named.

const wire = claudeOverWire();

const TOOLS: OpenAI.Responses.Tool[] = [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false }];

describe('/v1/responses review: parallel function calls', () => {
  it('an engine error about the second of two parallel function_call items names that item (input.2), not the first (input.1)', async () => {
    // core: [input.0 user, assistant { toolCalls: [input.1, input.2] }, tool (input.3), tool (input.4)]
    const input = [
      { role: 'user', content: 'Weather in Paris and Rome?' },
      { type: 'function_call', call_id: 'call_a', name: 'get_weather', arguments: '{"city":"Paris"}' },
      { type: 'function_call', call_id: 'call_b', name: 'get_weather', arguments: '{"city":' },
      { type: 'function_call_output', call_id: 'call_a', output: 'Sunny' },
      { type: 'function_call_output', call_id: 'call_b', output: 'Rainy' },
    ];
    const error = (await wire.gw
      .openai()
      .responses.create({ model: 'claude', tools: TOOLS, input } as unknown as OpenAI.Responses.ResponseCreateParamsNonStreaming)
      .catch((e: unknown) => e)) as { status?: number; param?: string | null; message: string };
    expect(error).toBeInstanceOf(Error);
    expect(error.status).toBe(400);
    expect(wire.claudeUp.requests).toHaveLength(0);
    // The bad arguments are those of input.2; input.1's are valid JSON.
    expect(error.param).toMatch(/^input\.2(\.|$)/);
    expect(error.message).not.toContain('input.1');
  });
});
