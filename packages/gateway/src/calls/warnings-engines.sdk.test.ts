import type { AnthropicWireServer } from '@llmrr/core/test';
import type OpenAI from 'openai';
import { parseList, Token } from 'structured-headers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clearRequests, type SdkGateway } from '../test-support/served-gateway.js';
import { servedOverWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// The built-in Anthropic engine's own warnings, end to end: a model that does not take system messages in place
// (claude-test) gets a mid-conversation system message joined into the top-level prompt
// (`system_message_hoisted`), and a `seed` is not sent (`setting_not_sent`); the gateway shows both in
// `x-llmrr-warnings`, naming the client's message on each route.

let claudeUp: AnthropicWireServer;
let gw: SdkGateway;

beforeAll(async () => {
  ({ gw, upstreams: { anthropic: claudeUp } } = await servedOverWireUpstreams((u) => [wireDeployment(u, 'claude')]));
});
afterAll(() => gw?.close());
afterEach(() => clearRequests(claudeUp));

function read(value: string | null): Array<[string, unknown]> {
  expect(value).not.toBeNull();
  expect(value).toMatch(/^[\x20-\x7e]+$/);
  return parseList(value!).map(([item, params]) => [item instanceof Token ? item.toString() : String(item), params.get('field')]);
}

const CHAT: OpenAI.ChatCompletionMessageParam[] = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Hello' },
  { role: 'assistant', content: 'Hi.' },
  { role: 'system', content: 'Now answer in French.' },
  { role: 'user', content: 'How are you?' },
];

describe('the Anthropic engine\u2019s warnings in x-llmrr-warnings', () => {
  it('/v1/chat/completions, JSON and streamed: messages.3 hoisted, seed not sent', async () => {
    const json = await gw.openai().chat.completions.create({ model: 'claude', messages: CHAT, seed: 7 }).withResponse();
    expect(read(json.response.headers.get('x-llmrr-warnings')).sort()).toEqual([
      ['setting_not_sent', 'seed'],
      ['system_message_hoisted', 'messages.3'],
    ]);
    const streamed = await gw.openai().chat.completions.create({ model: 'claude', messages: CHAT, seed: 7, stream: true }).withResponse();
    expect(read(streamed.response.headers.get('x-llmrr-warnings')).sort()).toEqual([
      ['setting_not_sent', 'seed'],
      ['system_message_hoisted', 'messages.3'],
    ]);
    for await (const _ of streamed.data) void _;
    // The upstream got one top-level system prompt and no system message among its messages.
    expect(claudeUp.requests).toHaveLength(2);
  });

  it('/v1/responses: the developer message (core messages.3) is input.2 after instructions', async () => {
    const input = [
      { role: 'user', content: 'Hello' },
      { role: 'assistant', content: 'Hi.' },
      { role: 'developer', content: 'Now answer in French.' },
      { role: 'user', content: 'How are you?' },
    ] as OpenAI.Responses.ResponseInput;
    for (const stream of [false, true] as const) {
      const { data, response } = await gw.openai().responses.create({ model: 'claude', instructions: 'Be brief.', input, stream }).withResponse();
      expect(read(response.headers.get('x-llmrr-warnings'))).toEqual([['system_message_hoisted', 'input.2']]);
      if (stream) for await (const _ of data as AsyncIterable<unknown>) void _;
    }
  });

  it('/v1/messages: a system message after a top-level system prompt (core messages.3) is the client\u2019s messages.2', async () => {
    const body = {
      model: 'claude',
      max_tokens: 50,
      system: 'Be brief.',
      messages: [
        { role: 'user', content: 'Hello' },
        { role: 'assistant', content: 'Hi.' },
        { role: 'system', content: 'Now answer in French.' },
        { role: 'user', content: 'How are you?' },
      ],
    };
    for (const stream of [false, true]) {
      const res = await fetch(`${gw.url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': gw.secret, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
        body: JSON.stringify({ ...body, stream }),
      });
      const text = await res.text();
      expect(res.status, text).toBe(200);
      expect(read(res.headers.get('x-llmrr-warnings'))).toEqual([['system_message_hoisted', 'messages.2']]);
    }
  });

  it('no warnings, no header', async () => {
    const { response } = await gw.openai().chat.completions.create({ model: 'claude', messages: CHAT.slice(0, 3).concat(CHAT.slice(4)) }).withResponse();
    expect(response.headers.get('x-llmrr-warnings')).toBeNull();
  });
});
