/**
 * Circuits opened by a failing provider recover through the gateway: a half-open probe whose client leaves
 * (before the answer, or mid-stream) must not keep the deployment out for good. Official openai client, local
 * OpenAI- and Gemini-wire upstreams. (The router's own case: core's router-stream.test.ts, "an abandoned half-open probe".)
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { overWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

const PRICE = { price: { input: 1, output: 2 } };

/** gpt's circuit transitions, as the router reports them. */
const gptCircuit: string[] = [];
const wire = overWireUpstreams(
  (u) => [wireDeployment(u, 'gpt', { alias: 'pair', priority: 1, ...PRICE }), wireDeployment(u, 'gem', { alias: 'pair', priority: 2, ...PRICE })],
  { routing: { strategy: 'priority', retries: { max: 0 }, circuitBreaker: { failureThreshold: 1, cooldownMs: 300 } } },
);
beforeAll(async () => {
  await wire.gw.harness.stores!.tenants.updateTenant('acme', { budget: { amountUsd: 100, period: 'month' }, limits: { maxConcurrency: 8 } });
  wire.gw.harness.router.on('circuit', (e) => {
    if (e.deployment === 'gpt') gptCircuit.push(`${e.from} -> ${e.to}`);
  });
});

async function answerFrom(): Promise<string | null> {
  const { response } = await wire.gw.openai().chat.completions.create({ model: 'pair', messages: [{ role: 'user', content: 'x' }] }).withResponse();
  return response.headers.get('x-llmrr-model');
}

/**
 * Opens gpt's circuit with one 500 (gpt asked once, gem answers). The open state is read from the router's `circuit`
 * event, not from a second call: with a cooldown short enough for these tests (300 ms), a loaded machine can be past
 * it by the next call, which would then be the probe.
 */
async function openCircuit(): Promise<void> {
  wire.upstreams.openai.setScript({ error: { status: 500, message: 'boom', type: 'server_error' } });
  const requests = wire.upstreams.openai.requests.length;
  const transitions = gptCircuit.length;
  expect(await answerFrom()).toBe('gem');
  expect(wire.upstreams.openai.requests.length).toBe(requests + 1);
  expect(gptCircuit.slice(transitions)).toEqual(['closed -> open']);
}

async function probeIsAllowedAgain(): Promise<void> {
  wire.upstreams.openai.setScript({ text: 'gpt is back' });
  await vi.waitFor(
    async () => {
      expect(await answerFrom()).toBe('gpt');
    },
    { timeout: 8000, interval: 100 },
  );
  expect(gptCircuit.at(-1)).toBe('half-open -> closed');
}

describe('a half-open probe whose client leaves', () => {
  it('leaving before any answer (streamed probe, upstream silent): gpt is probed again later and closes', async () => {
    await openCircuit();
    wire.upstreams.openai.setScript({ hang: true });
    // Wait out the cooldown: a streamed request reaches gpt (the probe), whose upstream never answers.
    const controller = new AbortController();
    const requestsBefore = wire.upstreams.openai.requests.length;
    let pending: Promise<unknown> | undefined;
    await vi.waitFor(
      async () => {
        if (wire.upstreams.openai.requests.length > requestsBefore) return;
        pending ??= wire.gw
          .openai()
          .chat.completions.create({ model: 'pair', messages: [{ role: 'user', content: 'probe' }], stream: true }, { signal: controller.signal })
          .then(async (s) => {
            for await (const _ of s) void _;
          })
          .catch(() => {});
        const r = await Promise.race([pending.then(() => 'done'), new Promise((res) => setTimeout(() => res('wait'), 100))]);
        if (r === 'done') pending = undefined;
        throw new Error('no probe yet');
      },
      { timeout: 8000, interval: 50 },
    );
    controller.abort();
    await pending;
    await probeIsAllowedAgain();
  });

  it('leaving mid-stream (probe answering slowly): gpt is probed again later and closes', async () => {
    await openCircuit();
    wire.upstreams.openai.setScript({ text: 'a b c d e f g h i j k l m n o p', hangAfterChunks: 3 });
    const requestsBefore = wire.upstreams.openai.requests.length;
    await vi.waitFor(
      async () => {
        const { data: s, response } = await wire.gw.openai().chat.completions.create({ model: 'pair', messages: [{ role: 'user', content: 'probe' }], stream: true }).withResponse();
        if (response.headers.get('x-llmrr-model') !== 'gpt') {
          for await (const _ of s) void _;
          throw new Error('not the probe yet');
        }
        // Read one chunk of the probe, then leave.
        for await (const _ of s) break;
      },
      { timeout: 8000, interval: 50 },
    );
    expect(wire.upstreams.openai.requests.length).toBeGreaterThan(requestsBefore);
    await probeIsAllowedAgain();
  });

  it('a non-streamed probe whose client leaves before any answer: gpt is probed again later and closes', async () => {
    await openCircuit();
    wire.upstreams.openai.setScript({ hang: true });
    const requestsBefore = wire.upstreams.openai.requests.length;
    const controllers: AbortController[] = [];
    const pendings: Promise<unknown>[] = [];
    await vi.waitFor(
      async () => {
        if (wire.upstreams.openai.requests.length > requestsBefore) return;
        const c = new AbortController();
        controllers.push(c);
        pendings.push(wire.gw.openai().chat.completions.create({ model: 'pair', messages: [{ role: 'user', content: 'probe' }] }, { signal: c.signal }).catch(() => {}));
        await new Promise((r) => setTimeout(r, 100));
        throw new Error('no probe yet');
      },
      { timeout: 8000, interval: 50 },
    );
    for (const c of controllers) c.abort();
    await Promise.all(pendings);
    await probeIsAllowedAgain();
  });
});
