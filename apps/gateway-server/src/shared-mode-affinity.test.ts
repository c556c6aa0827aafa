/**
 * Prompt-cache affinity in shared mode, end to end: TWO gateway server processes (src/main.ts,
 * LLMRR_STATE=shared) on one real Redis and one real PostgreSQL (vitest.global-setup.ts), in front of
 * two Anthropic wire servers that are two deployments of one model under round-robin. A marked
 * conversation whose turns alternate between the two processes stays on the deployment of its first
 * turn, because both processes remember it in Redis. Skipped, with the reason, when redis-server or
 * PostgreSQL is not installed.
 */
import { randomBytes } from 'node:crypto';
import { startAnthropicWireServer, type AnthropicWireServer } from '@llmrr/core/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSharedState, sharedModeSetup, sharedServices, startGateway, stopGateway, type Gateway } from './test-support/gateway-processes.js';

const ADMIN = 'shared-affinity-admin-key-0123456789';
const TEST = 'two-process prompt-cache affinity test';
const services = sharedServices(TEST);
const { skip } = services;

describe.skipIf(skip !== undefined)(skip ?? 'shared mode: prompt-cache affinity across two gateway processes', () => {
  const id = randomBytes(5).toString('hex');
  const run = { schema: `gwa_${id}`, prefix: `gwa${id}:`, adminKey: ADMIN };
  let dir: string | undefined;
  let wireA: AnthropicWireServer | undefined;
  let wireB: AnthropicWireServer | undefined;
  let a: Gateway | undefined;
  let b: Gateway | undefined;
  let secret = '';

  const post = (g: Gateway, path: string, body: unknown, headers: Record<string, string>) =>
    fetch(`${g.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  /** Turn `n` of a conversation in Anthropic's format: a marked system prompt, the last user turn marked (as Claude Code does). */
  const turn = (n: number, marks = true) => {
    const mark = marks ? { cache_control: { type: 'ephemeral' } } : {};
    const messages: Array<Record<string, unknown>> = [];
    for (let i = 1; i <= n; i++) {
      messages.push({ role: 'user', content: [{ type: 'text', text: `question ${i}`, ...(i === n ? mark : {}) }] });
      if (i < n) messages.push({ role: 'assistant', content: `answer ${i}` });
    }
    return { model: 'claude', max_tokens: 16, system: [{ type: 'text', text: `You answer briefly (${id}). `.repeat(20), ...mark }], messages };
  };
  /** Sends a /v1/messages request through `g`; returns the deployment that served it. */
  const send = async (g: Gateway, body: unknown): Promise<string> => {
    const res = await post(g, '/v1/messages', body, { 'x-api-key': secret, 'anthropic-version': '2023-06-01' });
    const text = await res.text();
    expect(res.status, `${g.name}: ${text}`).toBe(200);
    return res.headers.get('x-llmrr-model') ?? '';
  };

  beforeAll(async () => {
    [wireA, wireB] = await Promise.all([startAnthropicWireServer({ apiKey: 'ak' }), startAnthropicWireServer({ apiKey: 'ak' })]);
    const deployment = (name: string, url: string) => ({ name, alias: 'claude', engine: 'anthropic', model: 'claude-test-1', baseURL: url, apiKey: 'ak', capabilities: ['chat', 'streaming'] });
    const config = {
      version: 2,
      models: [deployment('claude-a', wireA.url), deployment('claude-b', wireB.url)],
      // A spreading strategy: each process alternates between the two deployments on its own.
      routing: { strategy: 'round-robin', retries: { max: 0 } },
      cache: { exact: { enabled: false } },
    };
    const setup = sharedModeSetup(config, services, run);
    dir = setup.dir;
    const { env } = setup;
    [a, b] = await Promise.all([startGateway('A', env), startGateway('B', env)]);
    const admin = { authorization: `Bearer ${ADMIN}` };
    expect((await post(a, '/admin/tenants', { id: 'affinity', name: 'Affinity' }, admin)).status).toBe(201);
    const created = await post(a, '/admin/tenants/affinity/keys', { name: 'test' }, admin);
    expect(created.status).toBe(201);
    secret = ((await created.json()) as { secret: string }).secret;
  }, 180_000);

  afterAll(async () => {
    await Promise.all([stopGateway(a), stopGateway(b)]);
    await Promise.all([wireA?.close(), wireB?.close()]);
    dropSharedState(TEST, services, run, dir);
  }, 60_000);

  it('says at start that prompt-cache affinity is shared through Redis', () => {
    for (const g of [a!, b!]) expect(g.output()).toContain('prompt-cache affinity: on (Redis, shared)');
  });

  it("a marked conversation alternating between the two processes stays on its first turn's deployment", async () => {
    // B's round-robin one step ahead of A's: without a shared memory, B's turns would go to the other deployment.
    await send(b!, turn(1, false));
    const before = { a: wireA!.requests.length, b: wireB!.requests.length };
    const served: string[] = [];
    for (let n = 1; n <= 6; n++) served.push(await send(n % 2 === 1 ? a! : b!, turn(n)));
    const first = served[0]!;
    expect(['claude-a', 'claude-b']).toContain(first);
    expect(served).toEqual(Array(6).fill(first));
    const counts = { a: wireA!.requests.length - before.a, b: wireB!.requests.length - before.b };
    expect(counts).toEqual(first === 'claude-a' ? { a: 6, b: 0 } : { a: 0, b: 6 });
    // The upstream saw the marks (the affinity is about its prompt cache).
    const last = (first === 'claude-a' ? wireA! : wireB!).requests.at(-1)!;
    expect(JSON.stringify(last.body)).toContain('"cache_control":{"type":"ephemeral"}');
  });

  it('the strategy still spreads requests without marks', async () => {
    const served = [await send(a!, turn(3, false)), await send(a!, turn(3, false)), await send(b!, turn(3, false)), await send(b!, turn(3, false))];
    expect(served[0]).not.toBe(served[1]);
    expect(served[2]).not.toBe(served[3]);
  });
});
