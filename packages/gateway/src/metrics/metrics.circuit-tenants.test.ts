/**
 * `llm_circuit_state` with tenants' own models: read from the router at each scrape, one series per live
 * deployment whose circuit is not closed (a shared one without a `tenant` label, a tenant's own model with its owner),
 * so it agrees with `/api/status`, and a retired deployment (of a deleted tenant, dropped or replaced by a patch)
 * is no longer reported. A real LLMRouter (mock engines), the real in-memory stores, the admin API.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LLMRouter, type RouterEvents } from '@llmrr/core';
import { createGateway } from '../gateway.js';
import type { GatewayRouter } from '../types.js';
import { createHarness, get, mockModel, post, type Harness, type HarnessOptions } from '../test-support/harness.js';

const ADMIN = 'admin-secret-for-tests-0123456789';
const FAILING = { failures: [{ code: 'provider_unavailable', message: 'acme upstream down', times: 1000 }] };

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function harness(routerOptions: HarnessOptions['routerOptions'] = {}): Promise<Harness> {
  h = await createHarness({
    stores: 'memory',
    models: [mockModel('mock', { reply: 'shared mock' })],
    routing: { circuitBreaker: { failureThreshold: 1, cooldownMs: 600_000 } },
    routerOptions,
    gateway: { auth: { adminKey: ADMIN } },
  });
  return h;
}

function admin(method: string, path: string, body?: unknown): Promise<Response> {
  return h!.gateway.fetch(
    new Request(`http://gateway.test${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    }),
  );
}

async function keyOf(tenant: string): Promise<string> {
  return ((await (await admin('POST', `/admin/tenants/${tenant}/keys`, { name: 'k' })).json()) as { secret: string }).secret;
}

const chat = (secret: string, model: string) => post(h!.gateway, '/v1/chat/completions', { model, messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${secret}` });

async function circuitLines(): Promise<string[]> {
  const res = await get(h!.gateway, '/metrics');
  expect(res.status).toBe(200);
  return (await res.text()).split('\n').filter((l) => l.startsWith('llm_circuit_state{'));
}

describe('llm_circuit_state with tenants\' own models', () => {
  it('a tenant\'s own model opening its circuit is reported under its tenant; the shared deployment of that name stays closed', async () => {
    await harness();
    // acme brings its own `mock` (shadowing the shared one for acme only), whose provider refuses every call.
    expect((await admin('POST', '/admin/tenants', { id: 'acme', name: 'Acme', models: [{ name: 'mock', engine: 'mock', price: { input: 1, output: 2 }, options: FAILING }] })).status).toBe(201);
    expect((await admin('POST', '/admin/tenants', { id: 'beta', name: 'Beta' })).status).toBe(201);
    const [acme, beta] = [await keyOf('acme'), await keyOf('beta')];
    expect((await chat(acme, 'mock')).status).toBeGreaterThanOrEqual(500);
    // The shared `mock` is healthy: beta is served by it.
    const served = await chat(beta, 'mock');
    expect(served.status).toBe(200);
    expect(served.headers.get('x-llmrr-model')).toBe('mock');
    const status = async (secret: string) =>
      ((await (await h!.gateway.fetch(new Request('http://gateway.test/api/status', { headers: { authorization: `Bearer ${secret}` } }))).json()) as { deployments: Array<{ name: string; circuit: string }> }).deployments.find((d) => d.name === 'mock')?.circuit;
    expect(await status(beta)).toBe('closed');
    expect(await status(acme)).toBe('open');
    // As /api/status says: acme's own `mock` open under its tenant; the shared `mock` closed (no series).
    expect((await circuitLines()).sort()).toEqual(['llm_circuit_state{deployment="mock",tenant="acme"} 2']);
  });

  it('a deleted tenant\'s own model is no longer reported', async () => {
    await harness();
    expect((await admin('POST', '/admin/tenants', { id: 'acme', name: 'Acme', models: [{ name: 'acme-llm', engine: 'mock', price: { input: 1, output: 2 }, options: FAILING }] })).status).toBe(201);
    expect((await chat(await keyOf('acme'), 'acme-llm')).status).toBeGreaterThanOrEqual(500);
    expect(await circuitLines()).toContain('llm_circuit_state{deployment="acme-llm",tenant="acme"} 2');
    expect(h!.router.models('acme').some((d) => d.name === 'acme-llm')).toBe(true);
    // The tenant and its model are gone: no deployment of that name exists any more.
    expect((await admin('DELETE', '/admin/tenants/acme')).status).toBe(200);
    expect(h!.router.models('acme').some((d) => d.name === 'acme-llm')).toBe(false);
    expect(await circuitLines()).toEqual([]);
  });

  it('a tenant\'s models replaced or dropped by a patch are no longer reported open', async () => {
    await harness();
    const models = [
      { name: 'acme-llm', engine: 'mock', price: { input: 1, output: 2 }, options: FAILING },
      { name: 'acme-old', engine: 'mock', price: { input: 1, output: 2 }, options: FAILING },
    ];
    expect((await admin('POST', '/admin/tenants', { id: 'acme', name: 'Acme', models })).status).toBe(201);
    const acme = await keyOf('acme');
    expect((await chat(acme, 'acme-llm')).status).toBeGreaterThanOrEqual(500);
    expect((await chat(acme, 'acme-old')).status).toBeGreaterThanOrEqual(500);
    expect((await circuitLines()).sort()).toEqual([
      'llm_circuit_state{deployment="acme-llm",tenant="acme"} 2',
      'llm_circuit_state{deployment="acme-old",tenant="acme"} 2',
    ]);
    // `acme-llm` gets a new config (a new deployment, a fresh circuit in memory: closed); `acme-old` is dropped.
    const patched = await admin('PATCH', '/admin/tenants/acme', { models: [{ name: 'acme-llm', engine: 'mock', price: { input: 1, output: 2 }, options: { reply: 'fixed' } }] });
    expect(patched.status).toBe(200);
    expect(await circuitLines()).toEqual([]);
    expect((await chat(acme, 'acme-llm')).status).toBe(200);
    expect(await circuitLines()).toEqual([]);
  });

  it('an open circuit past its cooldown is reported half-open at the next scrape, with no call in between, and not at all once closed', async () => {
    let clock = 1_000_000;
    await harness({ now: () => clock });
    const once = { failures: [{ code: 'provider_unavailable', message: 'acme upstream down', times: 1 }], reply: 'back' };
    expect((await admin('POST', '/admin/tenants', { id: 'acme', name: 'Acme', models: [{ name: 'acme-llm', engine: 'mock', price: { input: 1, output: 2 }, options: once }] })).status).toBe(201);
    const acme = await keyOf('acme');
    expect((await chat(acme, 'acme-llm')).status).toBeGreaterThanOrEqual(500);
    expect((await circuitLines()).sort()).toEqual(['llm_circuit_state{deployment="acme-llm",tenant="acme"} 2']);
    clock += 600_000;
    expect((await circuitLines()).sort()).toEqual(['llm_circuit_state{deployment="acme-llm",tenant="acme"} 1']);
    // The probe succeeds: the circuit closes, and a closed own model has no series.
    expect((await chat(acme, 'acme-llm')).status).toBe(200);
    expect(await circuitLines()).toEqual([]);
  });

  it('a router without circuits() has its models()\' deployments reported, shared, without a tenant label', async () => {
    const router = new LLMRouter({
      models: [mockModel('mock'), mockModel('down', FAILING)],
      routing: { strategy: 'priority', retries: { max: 0 }, circuitBreaker: { failureThreshold: 1, cooldownMs: 600_000 } },
    });
    // A wrapping router: what GatewayRouter requires, without the optional circuits().
    const wrapped: GatewayRouter = { generate: (r, o) => router.generate(r, o), stream: (r, o) => router.stream(r, o), route: (r, o) => router.route(r, o), models: (t) => router.models(t) };
    const gateway = createGateway({ router: wrapped, log: () => {} });
    try {
      expect((await post(gateway, '/v1/chat/completions', { model: 'down', messages: [{ role: 'user', content: 'hi' }] })).status).toBeGreaterThanOrEqual(500);
      const text = await (await get(gateway, '/metrics')).text();
      expect(text.split('\n').filter((l) => l.startsWith('llm_circuit_state{')).sort()).toEqual(['llm_circuit_state{deployment="down"} 2']);
    } finally {
      await gateway.close();
      await router.close();
    }
  });

  it('an open circuit past its cooldown: the scrape reports it half-open but emits no circuit event (a scrape reads, it does not act)', async () => {
    let clock = 1_000_000;
    h = await createHarness({
      models: [mockModel('down', { failures: [{ code: 'provider_unavailable', message: 'down', times: 1000 }] })],
      routing: { circuitBreaker: { failureThreshold: 1, cooldownMs: 60_000 } },
      routerOptions: { now: () => clock },
    });
    const events: Array<RouterEvents['circuit']> = [];
    h.router.on('circuit', (e) => events.push(e));
    expect((await post(h.gateway, '/v1/chat/completions', { model: 'down', messages: [{ role: 'user', content: 'hi' }] })).status).toBeGreaterThanOrEqual(500);
    expect(events).toEqual([{ deployment: 'down', from: 'closed', to: 'open' }]);
    clock += 60_000;
    const text = await (await get(h.gateway, '/metrics')).text();
    expect(text).toContain('llm_circuit_state{deployment="down"} 1');
    // The scrape is no call: the router's circuit event log must not say the circuit moved.
    expect(events).toEqual([{ deployment: 'down', from: 'closed', to: 'open' }]);
  });
});
