import { startAnthropicWireServer, type AnthropicWireServer } from '@llmrr/core/test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clearRequests, servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

// An assistant prefill on /v1/messages, through the official Anthropic client, to Claude deployments on a local
// Anthropic-wire upstream that refuses it as Anthropic does for Claude Opus / Sonnet 4.6 and later (400
// invalid_request_error "This model does not support assistant message prefill. The conversation must end with a user
// message."), and continues it for Sonnet 4.5. A deployment of a refusing model is left out before any call: the
// request goes to its fallback (Sonnet 4.5 continues it), and with none left the client gets a 400 naming its own
// message (`messages.1`, after a top-level `system`), not the upstream's words; the upstream gets nothing. The upstream
// refuses by its own list of model ids (`prefillRefusedModels`), not core's table, so an error there shows here.
// A last assistant turn with nothing the Anthropic engine sends (only reasoning without a signature: the gateway's own
// `thinking` block with `signature: ""` for a model that does not sign, a chat completions `reasoning_content`) is
// left out, and the model answers the user message before it.

const UPSTREAM_KEY = 'upstream-test-key';
let gw: SdkGateway;
let claudeUp: AnthropicWireServer;

beforeAll(async () => {
  claudeUp = await startAnthropicWireServer({ apiKey: UPSTREAM_KEY, prefillRefusedModels: ['claude-opus-4-6', 'us.anthropic.claude-sonnet-4-6'] });
  const claude = { engine: 'anthropic', apiKey: UPSTREAM_KEY, baseURL: claudeUp.url } as const;
  gw = await servedGateway({
    models: [
      { name: 'opus', ...claude, model: 'claude-opus-4-6' },
      { name: 'opus-alone', ...claude, model: 'claude-opus-4-6' },
      { name: 'sonnet-bedrock-id', ...claude, model: 'us.anthropic.claude-sonnet-4-6' },
      { name: 'sonnet-old', ...claude, model: 'claude-sonnet-4-5-20250929' },
      { name: 'opus-told', ...claude, model: 'claude-opus-4-6', options: { prefill: true } },
      { name: 'opus-exact-count', ...claude, model: 'claude-opus-4-6', options: { exactTokenCount: true } },
    ],
    routing: { fallbacks: { opus: ['sonnet-old'] } },
    upstreams: [claudeUp],
  });
});
afterAll(() => gw?.close());
afterEach(() => clearRequests(claudeUp));

const PREFILLED = {
  max_tokens: 64,
  system: 'Answer in JSON.',
  messages: [
    { role: 'user' as const, content: 'The capital of France?' },
    { role: 'assistant' as const, content: '{"capital": "' },
  ],
};

type AnthropicErrorBody = { type: string; error: { type: string; message: string; param?: string; code?: string } };

async function refused(pending: Promise<unknown>): Promise<AnthropicErrorBody['error']> {
  const e = await pending.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(Anthropic.BadRequestError);
  return ((e as InstanceType<typeof Anthropic.BadRequestError>).error as AnthropicErrorBody).error;
}

describe('/v1/messages: an assistant prefill to Claude Opus / Sonnet 4.6', () => {
  it('alone: a 400 naming the client message (JSON and streamed), nothing sent upstream', async () => {
    for (const model of ['opus-alone', 'sonnet-bedrock-id']) {
      for (const stream of [false, true]) {
        const error = await refused(gw.anthropic().messages.create({ model, ...PREFILLED, stream }));
        expect({ model, type: error.type, param: error.param }).toEqual({ model, type: 'invalid_request_error', param: 'messages.1' });
        expect(error.message).toContain('does not support assistant message prefill');
      }
    }
    expect(claudeUp.requests).toHaveLength(0);
  });

  it('with a fallback: Claude Sonnet 4.5 continues it (JSON and streamed), the 4.6 model gets nothing', async () => {
    claudeUp.enqueue({ content: 'Paris"}' });
    const message = await gw.anthropic().messages.create({ model: 'opus', ...PREFILLED });
    expect(message.content).toEqual([expect.objectContaining({ type: 'text', text: 'Paris"}' })]);
    claudeUp.enqueue({ content: 'Paris"}' });
    const stream = gw.anthropic().messages.stream({ model: 'opus', ...PREFILLED });
    expect((await stream.finalMessage()).content).toEqual([expect.objectContaining({ type: 'text', text: 'Paris"}' })]);
    expect(claudeUp.requests.map((q) => (q.body as { model: string }).model)).toEqual(['claude-sonnet-4-5-20250929', 'claude-sonnet-4-5-20250929']);
  });

  it('options.prefill: true sends it, and the upstream 400 reaches the client as a 400', async () => {
    const error = await refused(gw.anthropic().messages.create({ model: 'opus-told', ...PREFILLED }));
    expect(error.message).toContain('This model does not support assistant message prefill');
    expect(claudeUp.requests).toHaveLength(1);
  });

  it('a conversation ending with a user message goes through', async () => {
    const message = await gw.anthropic().messages.create({ model: 'opus-alone', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] });
    expect(message.content).toEqual([expect.objectContaining({ type: 'text', text: 'Echo: Hi' })]);
  });

  it('on /v1/chat/completions too: a 400 naming messages.N', async () => {
    const e = await gw
      .openai()
      .chat.completions.create({ model: 'opus-alone', messages: [{ role: 'system', content: 'Answer in JSON.' }, ...PREFILLED.messages] })
      .then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
    const err = e as InstanceType<typeof OpenAI.BadRequestError>;
    expect({ param: err.param, code: err.code }).toEqual({ param: 'messages.2', code: 'unsupported' });
    expect(claudeUp.requests).toHaveLength(0);
  });
});

describe('/v1/messages/count_tokens: a conversation ending with an assistant message, for Claude Opus 4.6', () => {
  // Counted, not refused: a count calls no model, and Anthropic's count_tokens is not known to refuse a prefill (its
  // token-counting guide names what it refuses that the Messages API takes: server tools, MCP, url or file sources).
  const { max_tokens: _none, ...counted } = PREFILLED;
  it('is counted: the local estimate, and the upstream count_tokens with the assistant turn last (exactTokenCount)', async () => {
    const local = await gw.anthropic().messages.countTokens({ model: 'opus-alone', ...counted });
    expect(local.input_tokens).toBeGreaterThan(0);
    expect(claudeUp.requests).toHaveLength(0);
    const exact = await gw.anthropic().messages.countTokens({ model: 'opus-exact-count', ...counted });
    expect(exact.input_tokens).toBeGreaterThan(0);
    expect(claudeUp.requests.map((q) => q.path)).toEqual(['/v1/messages/count_tokens']);
    expect((claudeUp.requests[0]!.body as { messages: Array<{ role: string }> }).messages.at(-1)?.role).toBe('assistant');
  });
});

describe('a last assistant turn holding only unsigned reasoning, to Claude Opus 4.6', () => {
  const roles = (): string[][] => claudeUp.requests.map((q) => (q.body as { messages: Array<{ role: string }> }).messages.map((m) => m.role));

  it('/v1/messages (a thinking block with signature ""): not refused, the upstream gets the user message and answers (JSON and streamed)', async () => {
    const messages: Anthropic.MessageParam[] = [
      { role: 'user', content: 'Why is the sky blue?' },
      { role: 'assistant', content: [{ type: 'thinking', thinking: 'Rayleigh scattering, briefly.', signature: '' }] },
    ];
    const message = await gw.anthropic().messages.create({ model: 'opus-alone', max_tokens: 64, messages });
    expect(message.content).toEqual([expect.objectContaining({ type: 'text', text: 'Echo: Why is the sky blue?' })]);
    const streamed = await gw.anthropic().messages.stream({ model: 'opus-alone', max_tokens: 64, messages }).finalMessage();
    expect(streamed.content).toEqual([expect.objectContaining({ type: 'text', text: 'Echo: Why is the sky blue?' })]);
    expect(roles()).toEqual([['user'], ['user']]);
  });

  it('/v1/chat/completions (reasoning_content and empty content): not refused, the upstream gets the user message and answers', async () => {
    const assistant = { role: 'assistant', content: '', reasoning_content: 'Rayleigh scattering, briefly.' } as OpenAI.ChatCompletionAssistantMessageParam;
    const r = await gw.openai().chat.completions.create({ model: 'opus-alone', messages: [{ role: 'user', content: 'Why is the sky blue?' }, assistant] });
    expect(r.choices[0]!.message.content).toBe('Echo: Why is the sky blue?');
    expect(roles()).toEqual([['user']]);
  });
});
