/**
 * The default readiness check of `GET /ready`: the router has an enabled deployment and the stores answer their
 * `ping()` (core's shared-mode stores: Redis and PostgreSQL; apps/gateway-server's shared-mode-ready test runs
 * it against real ones). A failing ping is a 503 whose body names no host; probes that arrive while a ping is
 * in flight share it, within the gateway's own bound (`readyTimeoutMs`): a ping whose answer never comes is a 503
 * then, and the next probe pings again. Once the gateway's `close()` has started, or for a request the server takes
 * while it drains, `/ready` is 503 without a ping. Real gateway and LLMRouter, in-memory stores whose `ping` the
 * test steers.
 */
import { LLMError, LLMRouter } from '@llmrr/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createGateway } from '../gateway.js';
import { serveGateway } from '../node/serve-gateway.js';
import { createHarness, get, mockModel, type Harness } from '../test-support/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('GET /ready (default check)', () => {
  it("is 503 (the error logged, not sent) while the router's ready() rejects (a strategy whose prepare failed), 200 once it resolves, and not asked again then", async () => {
    const logged: unknown[] = [];
    let fail = true;
    let prepares = 0;
    const strategy = {
      name: 'picky',
      rank: (ctx: { candidates: readonly unknown[] }) => ctx.candidates.map((c, i) => ({ candidate: c, score: -i })),
      prepare: async () => {
        prepares++;
        if (fail) throw new LLMError({ code: 'config_invalid', message: 'picky: cannot read /srv/secret-models/router.json', param: 'model' });
      },
    };
    h = await createHarness({ models: [mockModel('chat')], routing: { strategy: 'picky' }, routerOptions: { strategies: { picky: strategy as never } }, gateway: { log: (e) => logged.push(e.error) } });
    const served = await serveGateway(h.gateway, { port: 0 });
    try {
      const res = await fetch(`${served.url}/ready`);
      const text = await res.text();
      expect(res.status).toBe(503);
      expect(JSON.parse(text)).toMatchObject({ status: 'not_ready' });
      expect(text).not.toContain('secret-models');
      expect(logged.some((e) => LLMError.isInstance(e) && e.code === 'config_invalid')).toBe(true);
      // The strategy added again with a prepare that succeeds: ready, and ready() is not asked again on later probes.
      fail = false;
      h.router.addStrategy('picky', strategy as never);
      expect((await fetch(`${served.url}/ready`)).status).toBe(200);
      const ready = h.router.ready.bind(h.router);
      let asked = 0;
      h.router.ready = () => (asked++, ready());
      expect((await fetch(`${served.url}/ready`)).status).toBe(200);
      expect(asked).toBe(0);
      expect(prepares).toBe(2);
    } finally {
      await served.close(1000);
    }
  });

  it('is 200 while the stores answer their ping, 503 (reason without the store error) while it fails', async () => {
    const logged: unknown[] = [];
    h = await createHarness({ models: [mockModel('chat')], stores: 'memory', gateway: { log: (e) => logged.push(e.error) } });
    let pings = 0;
    let down = false;
    h.stores!.ping = async () => {
      pings++;
      if (down) throw new LLMError({ code: 'store_unavailable', message: 'Redis did not answer the readiness PING within 300 ms (redis://10.0.0.7:6379)' });
    };
    expect((await get(h.gateway, '/ready')).status).toBe(200);
    down = true;
    const res = await get(h.gateway, '/ready');
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ status: 'not_ready' });
    expect(text).not.toContain('10.0.0.7');
    expect(logged.some((e) => LLMError.isInstance(e) && e.code === 'store_unavailable')).toBe(true);
    down = false;
    expect((await get(h.gateway, '/ready')).status).toBe(200);
    expect(pings).toBe(3);
  });

  it('shares one ping among the probes that arrive while it is in flight', async () => {
    h = await createHarness({ models: [mockModel('chat')], stores: 'memory' });
    let pings = 0;
    let answer!: () => void;
    h.stores!.ping = () => {
      pings++;
      return new Promise<void>((r) => (answer = r));
    };
    const probes = [get(h.gateway, '/ready'), get(h.gateway, '/ready'), get(h.gateway, '/ready')];
    for (let i = 0; i < 50 && pings === 0; i++) await new Promise((r) => setTimeout(r, 1));
    await new Promise((r) => setTimeout(r, 10));
    expect(pings).toBe(1);
    answer();
    expect((await Promise.all(probes)).map((r) => r.status)).toEqual([200, 200, 200]);
    // The next probe after it answered makes a round trip of its own (no answer is kept).
    const next = get(h.gateway, '/ready');
    for (let i = 0; i < 50 && pings === 1; i++) await new Promise((r) => setTimeout(r, 1));
    answer();
    expect((await next).status).toBe(200);
    expect(pings).toBe(2);
  });

  it('a ping whose answer never comes is a 503 after readyTimeoutMs, and the next probe makes a round trip of its own', async () => {
    h = await createHarness({ models: [mockModel('chat')], stores: 'memory', gateway: { readyTimeoutMs: 300 } });
    let pings = 0;
    h.stores!.ping = () => {
      pings++;
      // The first round trip's answer is lost (a dropped packet on a connection that stays open); later ones answer.
      return pings === 1 ? new Promise<void>(() => {}) : Promise.resolve();
    };
    const t0 = performance.now();
    const lost = await get(h.gateway, '/ready');
    const ms = performance.now() - t0;
    expect(lost.status).toBe(503);
    expect(ms).toBeGreaterThanOrEqual(290);
    expect(ms).toBeLessThan(2_300);
    expect(await lost.json()).toMatchObject({ status: 'not_ready' });
    expect((await get(h.gateway, '/ready')).status).toBe(200);
    expect(pings).toBe(2);
  }, 10_000);

  it('refuses a readyTimeoutMs that is not a positive number', async () => {
    const router = new LLMRouter({ models: [mockModel('chat')] });
    expect(() => createGateway({ router, readyTimeoutMs: 0 })).toThrow(/readyTimeoutMs/);
    expect(() => createGateway({ router, readyTimeoutMs: Number.NaN })).toThrow(/readyTimeoutMs/);
    await router.close();
  });

  it('is 503 "shutting down" without pinging once close() has started, and for a request taken while the server drains', async () => {
    h = await createHarness({ models: [mockModel('chat')], stores: 'memory' });
    let pings = 0;
    h.stores!.ping = async () => {
      pings++;
    };
    const draining = await h.gateway.fetch(new Request('http://gateway.test/ready'), { draining: true });
    expect(draining.status).toBe(503);
    expect(await draining.json()).toEqual({ status: 'not_ready', reason: 'shutting down' });
    expect((await get(h.gateway, '/ready')).status).toBe(200);
    expect(pings).toBe(1);
    await h.gateway.close();
    const closed = await get(h.gateway, '/ready');
    expect(closed.status).toBe(503);
    expect(await closed.json()).toEqual({ status: 'not_ready', reason: 'shutting down' });
    expect(pings).toBe(1);
  });

  it('is 503 without pinging when the router has no enabled deployment', async () => {
    h = await createHarness({ models: [mockModel('chat', {}, { enabled: false })], stores: 'memory' });
    let pings = 0;
    h.stores!.ping = async () => {
      pings++;
    };
    expect((await get(h.gateway, '/ready')).status).toBe(503);
    expect(pings).toBe(0);
  });
});
