import type { OpenAIWireServer } from '@llmrr/core/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SdkGateway } from '../test-support/served-gateway.js';
import { servedOverWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// A shared OpenAI deployment with its own rpm limit. A client's author name OpenAI refuses is refused while the route
// is planned (`unsupported`, naming the message), as a capability the deployment lacks: no attempt, so nothing sent
// and nothing taken from the deployment's requests per minute, and the other tenants' requests still go.
let gw: SdkGateway;
let up: OpenAIWireServer;
beforeAll(async () => {
  ({ gw, upstreams: { openai: up } } = await servedOverWireUpstreams((u) => [wireDeployment(u, 'gpt', { name: 'oai', preset: 'openai', model: 'gpt-4o', limits: { rpm: 2 } })]));
});
afterAll(() => gw?.close());

const post = (name?: string) =>
  fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${gw.secret}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'oai', messages: [{ role: 'user', content: 'Hi', ...(name !== undefined ? { name } : {}) }] }),
  });

describe("a refused message name and the deployment's limits", () => {
  it('bad-name requests (nothing sent upstream) take none of the rpm: a good request is answered after them', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await post('Dr Who');
      expect(r.status).toBe(400);
      expect(((await r.json()) as { error: { code: string; param: string } }).error).toMatchObject({ code: 'unsupported', param: 'messages.0.name' });
    }
    expect(up.requests).toHaveLength(0);
    const r = await post('alice');
    expect(r.status).toBe(200);
    expect(up.requests).toHaveLength(1);
  });
});
