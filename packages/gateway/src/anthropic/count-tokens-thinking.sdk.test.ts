import { describe, expect, it } from 'vitest';
import { overWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// POST /v1/messages/count_tokens of a request with extended thinking, on an Anthropic deployment that counts with the
// upstream's count_tokens (`exactTokenCount`, answer `x-llmrr-token-count: exact`): the count body carries the same
// `thinking` as /v1/messages sends to that deployment (Anthropic's count_tokens takes `thinking`: @anthropic-ai/sdk
// MessageCountTokensParams.thinking). The engine builds the count body from the messages body of the same request
// (anthropic-engine.ts countTokensExactly); the count's request has no max_tokens, so the budget is not fitted under one.

const wire = overWireUpstreams((u) => [
    wireDeployment(u, 'claude', { model: 'claude-sonnet-4-5', options: { exactTokenCount: true }, capabilities: ['chat', 'streaming', 'tools', 'reasoning'] }),
  ]);

const prompt = {
  model: 'claude',
  thinking: { type: 'enabled' as const, budget_tokens: 2048 },
  system: 'Be brief.',
  messages: [{ role: 'user' as const, content: 'How many primes are below 100?' }],
};

describe('count_tokens with thinking on an exact-counting Anthropic deployment', () => {
  it('/v1/messages sends the thinking config (control)', async () => {
    wire.upstreams.anthropic.enqueue({ content: '25' });
    await wire.gw.anthropic().messages.create({ ...prompt, max_tokens: 4000 });
    expect(wire.upstreams.anthropic.requests.at(-1)!.body).toMatchObject({ thinking: { type: 'enabled', budget_tokens: 2048 } });
  });

  it('count_tokens: the upstream count gets the same thinking config', async () => {
    const { response } = await wire.gw.anthropic().messages.countTokens(prompt).withResponse();
    expect(response.headers.get('x-llmrr-token-count')).toBe('exact');
    const sent = wire.upstreams.anthropic.requests.at(-1)!;
    expect(sent.path).toBe('/v1/messages/count_tokens');
    expect(sent.body).toMatchObject({ thinking: { type: 'enabled', budget_tokens: 2048 } });
  });
});
