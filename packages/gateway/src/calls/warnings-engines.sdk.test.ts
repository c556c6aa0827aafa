import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { claudeOverWire } from '../test-support/claude-over-wire.js';
import { MID_SYSTEM_CHAT as CHAT, readWarnings as read } from '../test-support/read-warnings.js';

// The built-in Anthropic engine's own warnings, end to end: a model that does not take system messages in place
// (claude-test) gets a mid-conversation system message joined into the top-level prompt
// (`system_message_hoisted`), and a `seed` is not sent (`setting_not_sent`); the gateway shows both in
// `x-llmrr-warnings`, naming the client's message on each route.

const wire = claudeOverWire();

describe('the Anthropic engine\u2019s warnings in x-llmrr-warnings', () => {
  it('/v1/chat/completions, JSON and streamed: messages.3 hoisted, seed not sent', async () => {
    const json = await wire.gw.openai().chat.completions.create({ model: 'claude', messages: CHAT, seed: 7 }).withResponse();
    expect(read(json.response.headers.get('x-llmrr-warnings')).sort()).toEqual([
      ['setting_not_sent', 'seed'],
      ['system_message_hoisted', 'messages.3'],
    ]);
    const streamed = await wire.gw.openai().chat.completions.create({ model: 'claude', messages: CHAT, seed: 7, stream: true }).withResponse();
    expect(read(streamed.response.headers.get('x-llmrr-warnings')).sort()).toEqual([
      ['setting_not_sent', 'seed'],
      ['system_message_hoisted', 'messages.3'],
    ]);
    for await (const _ of streamed.data) void _;
    // The upstream got one top-level system prompt and no system message among its messages.
    expect(wire.claudeUp.requests).toHaveLength(2);
  });

  it('/v1/responses: the developer message (core messages.3) is input.2 after instructions', async () => {
    const input = [
      { role: 'user', content: 'Hello' },
      { role: 'assistant', content: 'Hi.' },
      { role: 'developer', content: 'Now answer in French.' },
      { role: 'user', content: 'How are you?' },
    ] as OpenAI.Responses.ResponseInput;
    for (const stream of [false, true] as const) {
      const { data, response } = await wire.gw.openai().responses.create({ model: 'claude', instructions: 'Be brief.', input, stream }).withResponse();
      expect(read(response.headers.get('x-llmrr-warnings'))).toEqual([['system_message_hoisted', 'input.2']]);
      if (stream) for await (const _ of data as AsyncIterable<unknown>) void _;
    }
  });

  it('/v1/messages: a system message after a top-level system prompt (core messages.3) is the client\u2019s messages.2', async () => {
    const body = {
      model: 'claude',
      max_tokens: 50,
      system: 'Be brief.',
      messages: CHAT.slice(1),
    };
    for (const stream of [false, true]) {
      const res = await fetch(`${wire.gw.url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': wire.gw.secret, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
        body: JSON.stringify({ ...body, stream }),
      });
      const text = await res.text();
      expect(res.status, text).toBe(200);
      expect(read(res.headers.get('x-llmrr-warnings'))).toEqual([['system_message_hoisted', 'messages.2']]);
    }
  });

  it('no warnings, no header', async () => {
    const { response } = await wire.gw.openai().chat.completions.create({ model: 'claude', messages: CHAT.slice(0, 3).concat(CHAT.slice(4)) }).withResponse();
    expect(response.headers.get('x-llmrr-warnings')).toBeNull();
  });
});
