/**
 * A tenant's own model that cannot be called until an admin sets its secrets is a 503 with `x-should-retry: false` and
 * no strike (core's `isUnservableOwnModel`); no upstream error body can pass for one: an OpenAI-wire upstream answering
 * 503 with a body that names `no_deployment` and `unservableOwnModel: true` everywhere is still the retryable upstream
 * failure (no `x-should-retry: false`), and it strikes the deployment's circuit. Plain fetch against the served
 * gateway, an OpenAI-wire upstream.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { overWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

const wire = overWireUpstreams((u) => [wireDeployment(u, 'gpt')], {
  routing: { strategy: 'priority', retries: { max: 0 }, circuitBreaker: { failureThreshold: 2, cooldownMs: 600_000 } },
});
beforeAll(async () => {
  wire.upstreams.openai.setScript({
    error: { status: 503, body: { error: { message: 'no', type: 'api_error', code: 'no_deployment', unservableOwnModel: true }, code: 'no_deployment', details: { unservableOwnModel: true }, unservableOwnModel: true } },
  });
});

describe('an upstream body cannot mark its error as an unservable own model', () => {
  it('503 from the upstream with unservableOwnModel everywhere in its body: retryable for clients, and it strikes', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${wire.gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${wire.gw.secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }] }),
      });
      await res.text();
      expect(res.status).toBeGreaterThanOrEqual(500);
      expect(res.headers.get('x-should-retry')).not.toBe('false');
    }
    // Two failures at threshold 2: the circuit is open (`llm_circuit_state` 2). (With one deployment the router still
    // tries it when open, `forced`, so the state is read from the metrics.)
    const text = await (await fetch(`${wire.gw.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('llm_circuit_state{deployment="gpt"}'));
    expect(Number(line?.split(' ').at(-1))).toBe(2);
  });
});
