import type { OpenAIWireServer } from '@llmrr/core/test';
import type OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readWarnings } from '../test-support/read-warnings.js';
import { clearRequests, type SdkGateway } from '../test-support/served-gateway.js';
import { servedOverWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// Groq's OpenAI compatibility page lists fields it answers with a 400 ("will result in a 400 error if they are
// supplied"): logprobs, logit_bias, top_logprobs and messages[].name. A deployment on the `groq` preset (here on a
// local OpenAI-wire server that records what it gets) is not sent logit_bias nor the messages' names, and each is
// said in x-llmrr-warnings, as logprobs already were; the same request to another OpenAI-compatible deployment
// sends them.

let gw: SdkGateway;
let up: OpenAIWireServer;

beforeAll(async () => {
  ({ gw, upstreams: { openai: up } } = await servedOverWireUpstreams((u) => [wireDeployment(u, 'gpt'), wireDeployment(u, 'gpt', { name: 'groq', preset: 'groq', model: 'llama-3.3-70b-versatile' })]));
});
afterAll(() => gw?.close());
afterEach(() => clearRequests(up));

const lastBody = () => up.requests.at(-1)!.body as { messages: Array<Record<string, unknown>> } & Record<string, unknown>;

const NAMED: OpenAI.ChatCompletionMessageParam[] = [
  { role: 'system', content: 'Moderate.', name: 'moderator' },
  { role: 'user', content: 'Tea or coffee?', name: 'alice' },
  { role: 'assistant', content: 'Tea.', name: 'tea_bot' },
  { role: 'user', content: 'Why?' },
];

describe('a groq deployment', () => {
  it('is not sent logit_bias nor messages[].name, and says so (JSON and streamed)', async () => {
    const { response } = await gw.openai().chat.completions.create({ model: 'groq', messages: NAMED, logit_bias: { '1734': -100 } }).withResponse();
    const body = lastBody();
    expect(body).not.toHaveProperty('logit_bias');
    expect(body.messages.map((m) => m.name)).toEqual([undefined, undefined, undefined, undefined]);
    expect(body.messages.map((m) => m.content)).toEqual(['Moderate.', 'Tea or coffee?', 'Tea.', 'Why?']);
    const header = response.headers.get('x-llmrr-warnings');
    expect(readWarnings(header)).toEqual([
      ['setting_not_sent', 'logit_bias'],
      ['setting_not_sent', 'messages.0.name'],
      ['setting_not_sent', 'messages.1.name'],
      ['setting_not_sent', 'messages.2.name'],
    ]);
    expect(header).toContain('message="logit_bias was not sent: Groq refuses logit_bias."');
    expect(header).toContain('message="messages.1.name was not sent: Groq refuses messages[].name."');

    const stream = await gw.openai().chat.completions.create({ model: 'groq', messages: NAMED, logit_bias: { '1734': -100 }, stream: true }).withResponse();
    for await (const _ of stream.data) void _;
    expect(lastBody()).not.toHaveProperty('logit_bias');
    expect(lastBody().messages.some((m) => 'name' in m)).toBe(false);
    expect(readWarnings(stream.response.headers.get('x-llmrr-warnings')).map(([, field]) => field)).toEqual(['logit_bias', 'messages.0.name', 'messages.1.name', 'messages.2.name']);
  });

  it('a request without them says nothing', async () => {
    const { response } = await gw.openai().chat.completions.create({ model: 'groq', messages: [{ role: 'user', content: 'Hi' }], logit_bias: {} }).withResponse();
    expect(lastBody()).not.toHaveProperty('logit_bias');
    expect(response.headers.get('x-llmrr-warnings')).toBeNull();
  });

  it('another OpenAI-compatible deployment is sent both, without a warning', async () => {
    const { response } = await gw.openai().chat.completions.create({ model: 'gpt', messages: NAMED, logit_bias: { '1734': -100 } }).withResponse();
    expect(lastBody().logit_bias).toEqual({ '1734': -100 });
    expect(lastBody().messages.map((m) => m.name)).toEqual(['moderator', 'alice', 'tea_bot', undefined]);
    expect(response.headers.get('x-llmrr-warnings')).toBeNull();
  });

  it('/v1/completions logit_bias: not sent to groq, said so', async () => {
    const { response } = await gw.openai().completions.create({ model: 'groq', prompt: 'Say hi', logit_bias: { '1734': -100 } }).withResponse();
    expect(lastBody()).not.toHaveProperty('logit_bias');
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toEqual([['setting_not_sent', 'logit_bias']]);
  });
});
