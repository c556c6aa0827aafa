import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { readWarnings } from '../test-support/read-warnings.js';
import { sdkRefusal } from '../test-support/sdk-refusal.js';
import { overWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// `logit_bias` on /v1/completions (openai 6.x `CompletionCreateParams.logit_bias`), through the official client: as on
// chat completions it is core's `logitBias`, sent to OpenAI-compatible deployments (the token ids are their
// tokenizer's) and said in a `setting_not_sent` warning where it cannot be sent (Anthropic here); a bad map is a 400
// naming it. It used to be accepted and never sent, with the gateway's "not supported" warning.

const wire = overWireUpstreams((u) => [wireDeployment(u, 'gpt'), wireDeployment(u, 'claude')]);

const lastOpenAIBody = () => wire.upstreams.openai.requests.at(-1)!.body as Record<string, unknown>;

describe('/v1/completions logit_bias', () => {
  it('reaches an OpenAI-compatible upstream as sent, without a warning (JSON and streamed)', async () => {
    const { response } = await wire.gw.openai().completions.create({ model: 'gpt', prompt: 'Is it raining?', logit_bias: { '9642': 100, '2822': 100 }, max_tokens: 1 }).withResponse();
    expect(lastOpenAIBody()).toMatchObject({ logit_bias: { '9642': 100, '2822': 100 }, max_tokens: 1 });
    expect(response.headers.get('x-llmrr-warnings')).toBeNull();
    const stream = await wire.gw.openai().completions.create({ model: 'gpt', prompt: 'Is it raining?', logit_bias: { '50256': -100 }, stream: true });
    for await (const _ of stream) void _;
    expect(lastOpenAIBody().logit_bias).toEqual({ '50256': -100 });
  });

  it('null and {} ask for nothing: nothing sent, no warning', async () => {
    for (const logit_bias of [null, {}]) {
      const { response } = await wire.gw.openai().completions.create({ model: 'gpt', prompt: 'Hi', logit_bias }).withResponse();
      expect(lastOpenAIBody()).not.toHaveProperty('logit_bias');
      expect(response.headers.get('x-llmrr-warnings')).toBeNull();
    }
  });

  it('to an Anthropic upstream: not sent, and said so naming logit_bias', async () => {
    const { response } = await wire.gw.openai().completions.create({ model: 'claude', prompt: 'Hi', logit_bias: { '50256': -100 } }).withResponse();
    expect(wire.upstreams.anthropic.requests.at(-1)!.body).not.toHaveProperty('logit_bias');
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toEqual([['setting_not_sent', 'logit_bias']]);
    expect(response.headers.get('x-llmrr-warnings')).toContain('message="logit_bias was not sent: Anthropic has no token logit bias."');
  });

  it.each([
    [{ '50256': 101 }, 'logit_bias.50256'],
    [{ '50256': '5' }, 'logit_bias.50256'],
    [{ word: 5 }, 'logit_bias.word'],
    [[1, 2], 'logit_bias'],
  ])('%j: a 400 naming %s, nothing sent upstream', async (logit_bias, param) => {
    const r = await sdkRefusal(wire.gw.openai().completions.create({ model: 'gpt', prompt: 'Hi', logit_bias } as unknown as OpenAI.CompletionCreateParamsNonStreaming));
    expect(r).toMatchObject({ status: 400, param });
    expect(wire.upstreams.openai.requests).toHaveLength(0);
  });
});
