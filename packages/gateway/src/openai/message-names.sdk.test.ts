import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { readWarnings } from '../test-support/read-warnings.js';
import { sdkRefusal } from '../test-support/sdk-refusal.js';
import { lastSentMessages } from '../test-support/served-gateway.js';
import { overWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// OpenAI's `messages[].name` ("An optional name for the participant. Provides the model information to differentiate
// between participants of the same role"), on every role that has it: system, developer, user and assistant (multi-agent
// frameworks such as AutoGen set it on every assistant turn). An OpenAI-compatible upstream, which takes the field,
// gets it on each of them; Anthropic and Gemini, which have no author names, are not sent it and say so
// (`setting_not_sent` `messages.N.name`), for every role as for the user's. A name OpenAI refuses (outside letters,
// digits, _ and -) is a 400 naming the client's `messages.N.name` before the call only where it would reach OpenAI
// (the `openai` and `azure-openai` presets); elsewhere it goes as it is (vLLM takes any), or is left out as above.

const wire = overWireUpstreams((u) => [
    wireDeployment(u, 'gpt'),
    wireDeployment(u, 'claude'),
    wireDeployment(u, 'gem'),
    wireDeployment(u, 'gpt', { name: 'oai', preset: 'openai', model: 'gpt-4o' }),
    wireDeployment(u, 'gpt', { name: 'oai-then-claude', preset: 'openai', model: 'gpt-4o' }),
  ], { routing: { fallbacks: { 'oai-then-claude': ['claude'] } } });

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
    const { response } = await wire.gw.openai().chat.completions.create({ model: 'gpt', messages: MESSAGES }).withResponse();
    expect(lastSentMessages<{ role: string; name?: string }>(wire.upstreams.openai).map((m) => [m.role, m.name])).toEqual([
      ['system', 'moderator'],
      ['user', 'alice'],
      ['assistant', 'tea_bot'],
      ['assistant', 'coffee_bot'],
      ['user', 'alice'],
    ]);
    expect(response.headers.get('x-llmrr-warnings')).toBeNull();
    const stream = await wire.gw.openai().chat.completions.create({ model: 'gpt', messages: MESSAGES, stream: true });
    for await (const _ of stream) void _;
    expect(lastSentMessages<{ name?: string }>(wire.upstreams.openai).map((m) => m.name)).toEqual(['moderator', 'alice', 'tea_bot', 'coffee_bot', 'alice']);
  });

  it('a system message with content parts keeps its name too', async () => {
    await wire.gw.openai().chat.completions.create({ model: 'gpt', messages: [{ role: 'system', content: [{ type: 'text', text: 'Be brief.' }], name: 'rules' }, { role: 'user', content: 'Hi' }] });
    expect(lastSentMessages<{ name?: string }>(wire.upstreams.openai)[0]).toMatchObject({ role: 'system', content: 'Be brief.', name: 'rules' });
  });

  it.each([
    ['claude', () => wire.upstreams.anthropic.requests],
    ['gem', () => wire.upstreams.gemini.requests],
  ] as const)('to %s (no author names): not sent, and each one said in x-llmrr-warnings', async (model, requests) => {
    const { response } = await wire.gw.openai().chat.completions.create({ model, messages: MESSAGES }).withResponse();
    const warned = readWarnings(response.headers.get('x-llmrr-warnings')).filter(([code]) => code === 'setting_not_sent').map(([, field]) => field);
    expect(warned).toEqual(NAMED);
    expect(JSON.stringify(requests().at(-1)!.body)).not.toMatch(/moderator|tea_bot|coffee_bot|alice/);
  });
});

describe('messages[].name that OpenAI refuses', () => {
  // OpenAI's own check: letters, digits, _ and - ("'J@ck' does not match '^[a-zA-Z0-9_-]{1,64}$' - 'messages.0.name'").
  const BAD = [
    ['a space', 'Dr Who', 1],
    ['an @', '@alice', 1],
    ['a non-Latin letter', 'Andr\u00e9', 2],
  ] as const;
  const withName = (index: number, name: string) => MESSAGES.slice(0, 3).map((m, i) => (i === index ? { ...m, name } : m)) as OpenAI.ChatCompletionMessageParam[];

  it.each(BAD)('with %s, to an openai deployment: a 400 naming the client\'s messages.N.name, nothing sent upstream', async (_, name, index) => {
    const r = await sdkRefusal(wire.gw.openai().chat.completions.create({ model: 'oai', messages: withName(index, name) }));
    expect(r).toMatchObject({ status: 400, param: `messages.${index}.name` });
    expect(r.message).toContain(`messages.${index}.name`);
    expect(wire.upstreams.openai.requests).toHaveLength(0);
  });

  it('with a system message before it: the 400 names messages.2.name', async () => {
    const messages = [{ role: 'system', content: 'Be brief.' }, ...withName(1, 'Dr Who')] as OpenAI.ChatCompletionMessageParam[];
    const r = await sdkRefusal(wire.gw.openai().chat.completions.create({ model: 'oai', messages }));
    expect(r).toMatchObject({ status: 400, param: 'messages.2.name' });
  });

  it.each(BAD)('with %s, elsewhere: sent as before (an OpenAI-compatible server that takes any name gets it; Anthropic and Gemini are not sent it, warned)', async (_, name, index) => {
    const { response } = await wire.gw.openai().chat.completions.create({ model: 'gpt', messages: withName(index, name) }).withResponse();
    expect(lastSentMessages<{ name?: string }>(wire.upstreams.openai)[index]!.name).toBe(name);
    expect(response.headers.get('x-llmrr-warnings')).toBeNull();
    for (const model of ['claude', 'gem']) {
      const r = await wire.gw.openai().chat.completions.create({ model, messages: withName(index, name) }).withResponse();
      expect(readWarnings(r.response.headers.get('x-llmrr-warnings')).map(([, field]) => field)).toContain(`messages.${index}.name`);
    }
  });

  it('an openai deployment with a fallback: the call falls over to it (Claude is not sent the name, and says so)', async () => {
    const { response } = await wire.gw.openai().chat.completions.create({ model: 'oai-then-claude', messages: withName(1, 'Dr Who') }).withResponse();
    expect(wire.upstreams.openai.requests).toHaveLength(0);
    expect(wire.upstreams.anthropic.requests).toHaveLength(1);
    expect(readWarnings(response.headers.get('x-llmrr-warnings')).map(([, field]) => field)).toContain('messages.1.name');
  });

  it('letters, digits, _ and - pass to openai, a name over 64 characters too (OpenAI decides its length)', async () => {
    const name = `A-z_0${'9'.repeat(70)}`;
    await wire.gw.openai().chat.completions.create({ model: 'oai', messages: [{ role: 'user', content: 'Hi', name }] });
    expect(lastSentMessages<{ name?: string }>(wire.upstreams.openai)[0]!.name).toBe(name);
  });
});
