import type Anthropic from '@anthropic-ai/sdk';
import { readFileSync, writeFileSync } from 'node:fs';
import type OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import type { ModelInput } from '../test-support/harness.js';
import { overWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// Prompt caching must change nothing for a request without a cache mark: the upstream bodies of such requests,
// through /v1/messages and /v1/chat/completions to an Anthropic and an OpenAI deployment, streamed and not, are
// byte for byte the bodies the gateway sent before prompt caching (commit 87f9971). The fixture was recorded
// with that commit's core and gateway (`RECORD_UPSTREAM_BODIES=1` writes it).
// One later change, of key order only: /v1/messages `top_k` became core's `topK` (8e6adb5), which the Anthropic
// engine sends right after `temperature`, where it went last as `providerOptions.anthropic.top_k` before.
// And one of content: a tool_result of several text blocks, run together ("Sunny, 21 C") before, now reaches the
// Anthropic deployment as its blocks and the OpenAI one with the blocks joined by "\n" (core's tool message `parts`).
// And one more of content: a chat developer message's text parts ("Answer ", "briefly."), run together before, are
// joined by "\n" as /v1/messages joins a prompt's blocks (see src/openai/text-part-joins.sdk.test.ts).
// And one of the end-user id: tenant acme's `u-1` (`user`, `metadata.user_id`) reaches these shared deployments as
// its tenant-scoped form, core's `tenantScopedId('acme', 'u-1')` (see src/tenancy/end-user-scoping.sdk.test.ts).

const FIXTURE = new URL('./__fixtures__/unmarked-upstream-bodies.json', import.meta.url);
const recording = process.env.RECORD_UPSTREAM_BODIES === '1';

const bodies: Record<string, string> = {};
const VISION: Partial<ModelInput> = { capabilities: ['chat', 'streaming', 'tools', 'vision'] };

const wire = overWireUpstreams((u) => [wireDeployment(u, 'claude', VISION), wireDeployment(u, 'gpt', VISION)]);
afterAll(() => {
  if (recording) writeFileSync(FIXTURE, `${JSON.stringify(bodies, null, 2)}\n`);
});

const IMAGE = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

const messagesBody = {
  max_tokens: 300,
  system: [
    { type: 'text' as const, text: 'You are a weather assistant.' },
    { type: 'text' as const, text: 'Answer in one sentence.' },
  ],
  tools: [
    { name: 'get_weather', description: 'Weather of a city', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] } },
    { name: 'get_time', input_schema: { type: 'object' as const, properties: {} } },
  ],
  messages: [
    { role: 'user' as const, content: [{ type: 'text' as const, text: 'Look at this, then the weather in Paris?' }, { type: 'image' as const, source: { type: 'base64' as const, media_type: 'image/png' as const, data: IMAGE } }] },
    { role: 'assistant' as const, content: [{ type: 'text' as const, text: 'Checking.' }, { type: 'tool_use' as const, id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }] },
    {
      role: 'user' as const,
      content: [
        { type: 'tool_result' as const, tool_use_id: 'toolu_1', content: [{ type: 'text' as const, text: 'Sunny, ' }, { type: 'text' as const, text: '21 C' }] },
        { type: 'text' as const, text: 'And now?' },
      ],
    },
  ],
  temperature: 0.5,
  top_k: 40,
  metadata: { user_id: 'u-1' },
};
// temperature and top_k are no longer in the SDK's types (1.14), but the SDK sends them and the gateway takes them.
const messagesParams = (model: string) => ({ ...messagesBody, model }) as Anthropic.MessageCreateParamsNonStreaming;

const chatBody = {
  max_tokens: 300,
  messages: [
    { role: 'system' as const, content: 'You are a weather assistant.' },
    { role: 'developer' as const, content: [{ type: 'text' as const, text: 'Answer ' }, { type: 'text' as const, text: 'briefly.' }] },
    { role: 'user' as const, content: [{ type: 'text' as const, text: 'Weather in Paris?' }, { type: 'image_url' as const, image_url: { url: `data:image/png;base64,${IMAGE}` } }] },
    { role: 'assistant' as const, content: null, tool_calls: [{ id: 'call_1', type: 'function' as const, function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
    { role: 'tool' as const, tool_call_id: 'call_1', content: [{ type: 'text' as const, text: 'Sunny' }] },
    { role: 'user' as const, content: 'And now?' },
  ],
  tools: [
    { type: 'function' as const, function: { name: 'get_weather', description: 'Weather of a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
    { type: 'function' as const, function: { name: 'get_time', parameters: { type: 'object', properties: {} } } },
  ],
  temperature: 0.5,
  user: 'u-1',
} satisfies Omit<OpenAI.ChatCompletionCreateParamsNonStreaming, 'model'>;

/** The last upstream request's body text, recorded or checked under `name`. */
function check(name: string, upstream: { requests: Array<{ rawBody: string }> }): void {
  const raw = upstream.requests.at(-1)!.rawBody;
  if (recording) {
    bodies[name] = raw;
    return;
  }
  const expected = (JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, string>)[name];
  expect(expected, `fixture entry ${name}`).toBeTypeOf('string');
  expect(raw).toBe(expected);
}

const upstreamOf = (model: string) => (model === 'claude' ? wire.upstreams.anthropic : wire.upstreams.openai);

describe('requests without cache marks: the upstream bodies are unchanged', () => {
  for (const model of ['claude', 'gpt']) {
    it(`/v1/messages to ${model}, not streamed and streamed`, async () => {
      if (model === 'gpt') wire.upstreams.openai.setScript({ text: 'ok' });
      await wire.gw.anthropic().messages.create(messagesParams(model));
      check(`messages-${model}`, upstreamOf(model));
      await wire.gw.anthropic().messages.stream(messagesParams(model)).finalMessage();
      check(`messages-${model}-stream`, upstreamOf(model));
    });

    it(`/v1/chat/completions to ${model}, not streamed and streamed`, async () => {
      if (model === 'gpt') wire.upstreams.openai.setScript({ text: 'ok' });
      await wire.gw.openai().chat.completions.create({ ...chatBody, model });
      check(`chat-${model}`, upstreamOf(model));
      const stream = await wire.gw.openai().chat.completions.create({ ...chatBody, model, stream: true });
      for await (const _chunk of stream) void _chunk;
      check(`chat-${model}-stream`, upstreamOf(model));
    });
  }
});
