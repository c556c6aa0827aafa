import type { AnthropicWireServer, GeminiWireServer, OpenAIWireServer } from '@llmrr/core/test';
import type OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readWarnings } from '../test-support/read-warnings.js';
import { sdkRefusal } from '../test-support/sdk-refusal.js';
import { clearRequests, lastSentMessages, type SdkGateway } from '../test-support/served-gateway.js';
import { servedOverWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// OpenAI's `messages[].name` ("An optional name for the participant. Provides the model information to differentiate
// between participants of the same role"), on every role that has it: system, developer, user and assistant (multi-agent
// frameworks such as AutoGen set it on every assistant turn). An OpenAI-compatible upstream, which takes the field,
// gets it on each of them; Anthropic and Gemini, which have no author names, are not sent it and say so
// (`setting_not_sent` `messages.N.name`), for every role as for the user's.

let gw: SdkGateway;
let openaiUp: OpenAIWireServer;
let claudeUp: AnthropicWireServer;
let gemUp: GeminiWireServer;

beforeAll(async () => {
  ({ gw, upstreams: { openai: openaiUp, anthropic: claudeUp, gemini: gemUp } } = await servedOverWireUpstreams((u) => [wireDeployment(u, 'gpt'), wireDeployment(u, 'claude'), wireDeployment(u, 'gem')]));
});
afterAll(() => gw?.close());
afterEach(() => clearRequests(openaiUp, claudeUp, gemUp));

const MESSAGES = [
  { role: 'developer', content: 'Moderate the debate.', name: 'moderator' },
  { role: 'user', content: 'Is tea better than coffee?', name: 'alice' },
  { role: 'assistant', content: 'Tea, obviously.', name: 'tea_bot' },
  { role: 'assistant', content: 'Coffee, clearly.', name: 'coffee_bot' },
  { role: 'user', content: 'Who said coffee?', name: 'alice' },
] as OpenAI.ChatCompletionMessageParam[];
const NAMED = ['messages.0.name', 'messages.1.name', 'messages.2.name', 'messages.3.name', 'messages.4.name'];

describe('messages[].name on every role', () => {
  it('reaches an OpenAI-compatible upstream on each message, without a warning (JSON and streamed)', async () => {
    const { response } = await gw.openai().chat.completions.create({ model: 'gpt', messages: MESSAGES }).withResponse();
    expect(lastSentMessages<{ role: string; name?: string }>(openaiUp).map((m) => [m.role, m.name])).toEqual([
      ['system', 'moderator'],
      ['user', 'alice'],
      ['assistant', 'tea_bot'],
      ['assistant', 'coffee_bot'],
      ['user', 'alice'],
    ]);
    expect(response.headers.get('x-llmrr-warnings')).toBeNull();
    const stream = await gw.openai().chat.completions.create({ model: 'gpt', messages: MESSAGES, stream: true });
    for await (const _ of stream) void _;
    expect(lastSentMessages<{ name?: string }>(openaiUp).map((m) => m.name)).toEqual(['moderator', 'alice', 'tea_bot', 'coffee_bot', 'alice']);
  });

  it('a system message with content parts keeps its name too', async () => {
    await gw.openai().chat.completions.create({ model: 'gpt', messages: [{ role: 'system', content: [{ type: 'text', text: 'Be brief.' }], name: 'rules' }, { role: 'user', content: 'Hi' }] });
    expect(lastSentMessages<{ name?: string }>(openaiUp)[0]).toMatchObject({ role: 'system', content: 'Be brief.', name: 'rules' });
  });

  it.each([
    ['claude', () => claudeUp.requests],
    ['gem', () => gemUp.requests],
  ] as const)('to %s (no author names): not sent, and each one said in x-llmrr-warnings', async (model, requests) => {
    const { response } = await gw.openai().chat.completions.create({ model, messages: MESSAGES }).withResponse();
    const warned = readWarnings(response.headers.get('x-llmrr-warnings')).filter(([code]) => code === 'setting_not_sent').map(([, field]) => field);
    expect(warned).toEqual(NAMED);
    expect(JSON.stringify(requests().at(-1)!.body)).not.toMatch(/moderator|tea_bot|coffee_bot|alice/);
  });
});

describe('messages[].name that OpenAI refuses', () => {
  // OpenAI's own check: letters, digits, _ and -, 1 to 64 of them ("'J@ck' does not match '^[a-zA-Z0-9_-]{1,64}$' -
  // 'messages.0.name'"); refused here before any upstream call, naming the client's message, whatever the deployment.
  it.each([
    ['a space', 'Dr Who', 1],
    ['an @', '@alice', 1],
    ['a non-Latin letter', 'Andr\u00e9', 2],
    ['65 characters', 'a'.repeat(65), 2],
    ['an empty string', '', 1],
  ])('with %s: a 400 naming messages.N.name, nothing sent upstream', async (_, name, index) => {
    for (const model of ['gpt', 'claude']) {
      const messages = MESSAGES.slice(0, 3).map((m, i) => (i === index ? { ...m, name } : m)) as OpenAI.ChatCompletionMessageParam[];
      const r = await sdkRefusal(gw.openai().chat.completions.create({ model, messages }));
      expect(r).toMatchObject({ status: 400, param: `messages.${index}.name` });
      expect(r.message).toContain(`messages.${index}.name`);
    }
    expect(openaiUp.requests).toHaveLength(0);
    expect(claudeUp.requests).toHaveLength(0);
  });

  it('64 letters, digits, _ and - pass', async () => {
    const name = `A-z_0${'9'.repeat(59)}`;
    await gw.openai().chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'Hi', name }] });
    expect(lastSentMessages<{ name?: string }>(openaiUp)[0]!.name).toBe(name);
  });
});
