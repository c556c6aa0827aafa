import { startAnthropicWireServer, type AnthropicWireServer } from '@llmrr/core/test';
import { describe, expect, it } from 'vitest';
import { mockModel } from '../test-support/harness.js';
import { sharedServedGateway } from '../test-support/served-gateway.js';

// The official Anthropic SDK's `messages.countTokens` (and the beta resource Claude Code uses) through a
// real gateway over node:http, to an `anthropic` deployment that counts with the upstream's count_tokens
// (a local Anthropic-wire server) and to a mock deployment that estimates.

let upstream: AnthropicWireServer;
/** What the upstream count_tokens answers: no estimate would land on it. */
const UPSTREAM_COUNT = 31337;

const served = sharedServedGateway(async () => {
  upstream = await startAnthropicWireServer({ apiKey: 'sk-ant-upstream', countTokens: () => UPSTREAM_COUNT });
  return {
    models: [
      mockModel('mock'),
      { name: 'claude', engine: 'anthropic', model: 'claude-wire-1', baseURL: upstream.url, apiKey: 'sk-ant-upstream', options: { exactTokenCount: true } },
    ],
    upstreams: [upstream],
  };
});

const client = () => served.gw.anthropic();
const prompt = { system: 'Be brief.', messages: [{ role: 'user' as const, content: 'hello there' }] };

describe('official anthropic client: messages.countTokens', () => {
  it("an anthropic deployment with exactTokenCount: the upstream's number, header exact", async () => {
    const { data, response } = await client().messages.countTokens({ model: 'claude', ...prompt }).withResponse();
    expect(data).toEqual({ input_tokens: UPSTREAM_COUNT });
    expect(response.headers.get('x-llmrr-token-count')).toBe('exact');
    const sent = upstream.requests.at(-1)!;
    expect(sent.path).toBe('/v1/messages/count_tokens');
    expect(sent.body).toEqual({ model: 'claude-wire-1', system: 'Be brief.', messages: [{ role: 'user', content: [{ type: 'text', text: 'hello there' }] }] });

    // The beta resource Claude Code calls (`?beta=true`, an `anthropic-beta` header) counts the same way.
    const beta = await client().beta.messages.countTokens({ model: 'claude', ...prompt, betas: ['token-counting-2024-11-01'] });
    expect(beta).toEqual({ input_tokens: UPSTREAM_COUNT });
    expect(upstream.requests.map((r) => r.path)).toEqual(['/v1/messages/count_tokens', '/v1/messages/count_tokens']);
    expect(await served.gw.ledger.query({ tenantId: 'acme' })).toEqual([]);
  });

  it('a mock deployment: its own count, header estimate, nothing upstream', async () => {
    const before = upstream.requests.length;
    const { data, response } = await client().messages.countTokens({ model: 'mock', ...prompt }).withResponse();
    // The mock engine counts words: "Be brief." and "hello there".
    expect(data).toEqual({ input_tokens: 4 });
    expect(response.headers.get('x-llmrr-token-count')).toBe('estimate');
    expect(upstream.requests).toHaveLength(before);
  });
});
