import type Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { readWarnings } from '../test-support/read-warnings.js';
import { overWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// `/v1/messages` `top_k` is core's `topK` (no longer a verbatim providerOptions.anthropic field): an Anthropic
// deployment gets it as `top_k`; with thinking on, `top_k` wins as `temperature` does (Anthropic refuses both
// together): thinking is dropped, and the warning names the client's `thinking`. Through a served gateway and the official client, to an Anthropic-wire upstream recording its bodies.

const wire = overWireUpstreams((u) => [wireDeployment(u, 'claude', { model: 'claude-sonnet-4-5', capabilities: ['chat', 'streaming', 'tools', 'reasoning'] })]);

const lastBody = () => wire.upstreams.anthropic.requests.at(-1)!.body as Record<string, unknown>;
// @anthropic-ai/sdk 1.14 no longer lists top_k in MessageCreateParams; clients still send it.
const ask = (extra: Record<string, unknown>) => ({ model: 'claude', max_tokens: 4096, messages: [{ role: 'user', content: 'Hello' }], ...extra }) as Anthropic.MessageCreateParamsNonStreaming;

describe('/v1/messages top_k to an Anthropic deployment', () => {
  it('is sent as top_k, with no warning', async () => {
    const { response } = await wire.gw.anthropic().messages.create(ask({ top_k: 40 })).withResponse();
    expect(lastBody().top_k).toBe(40);
    expect(response.headers.get('x-llmrr-warnings')).toBeNull();
  });

  it('top_k 0 asks for nothing (no top_k sent, no warning), as on chat completions; a negative one is a 400 naming top_k', async () => {
    const { response } = await wire.gw.anthropic().messages.create(ask({ top_k: 0 })).withResponse();
    expect(lastBody()).not.toHaveProperty('top_k');
    expect(response.headers.get('x-llmrr-warnings')).toBeNull();
    await expect(wire.gw.anthropic().messages.create(ask({ top_k: -1 }))).rejects.toMatchObject({ status: 400, error: { error: { message: expect.stringContaining('top_k') } } });
  });

  it('with thinking enabled: top_k is sent, thinking is not, and the warning names thinking', async () => {
    const { response } = await wire.gw.anthropic().messages.create(ask({ top_k: 40, thinking: { type: 'enabled', budget_tokens: 1024 } })).withResponse();
    expect(lastBody().top_k).toBe(40);
    expect(lastBody()).not.toHaveProperty('thinking');
    expect(readWarnings(response.headers.get('x-llmrr-warnings'))).toContainEqual(['setting_not_sent', 'thinking']);
  });
});
