import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LegacyAnswerSchema } from '../schemas/legacy-api.js';
import { createHarness, get, mockModel, post, type Harness } from '../test-support/harness.js';

describe('the original /api routes', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ models: [mockModel('cheap', {}, { priority: 1, price: { input: 0.1, output: 0.1 } }), mockModel('fancy', {}, { priority: 2, quality: 0.9, price: { input: 5, output: 10 } })] });
  });
  afterEach(() => h.close());

  it('/api/health and /api/status', async () => {
    const health = (await (await get(h.gateway, '/api/health')).json()) as { status: string; models: number };
    expect(health).toMatchObject({ status: 'healthy', models: 2 });
    const status = (await (await get(h.gateway, '/api/status')).json()) as { status: string; stateMode: string; deployments: Array<{ name: string; circuit: string }> };
    expect(status.stateMode).toBe('none');
    expect(status.deployments.map((d) => [d.name, d.circuit])).toEqual([
      ['cheap', 'closed'],
      ['fancy', 'closed'],
    ]);
  });

  it('/api/models', async () => {
    const body = (await (await get(h.gateway, '/api/models')).json()) as { count: number; models: Array<{ id: string; engine: string; price?: unknown }> };
    expect(body.count).toBe(2);
    expect(body.models[1]).toMatchObject({ id: 'fancy', engine: 'mock', price: { input: 5, output: 10 } });
  });

  it('/api/quick and /api/chat answer through the router', async () => {
    const quick = LegacyAnswerSchema.parse(await (await post(h.gateway, '/api/quick', { prompt: 'hi there', model: 'cheap' })).json());
    expect(quick).toMatchObject({ prompt: 'hi there', response: 'Mock answer to: hi there', model: 'cheap' });
    expect(quick.costUsd).toBeGreaterThan(0);
    const chat = LegacyAnswerSchema.parse(
      await (
        await post(h.gateway, '/api/chat', {
          messages: [
            { role: 'system', content: 'be nice' },
            { role: 'user', content: 'hello' },
          ],
          strategy: 'quality-first',
        })
      ).json(),
    );
    expect(chat.model).toBe('fancy');
    expect(chat.response).toBe('Mock answer to: hello');
  });

  it('/api/route returns the decision without generating', async () => {
    const res = await post(h.gateway, '/api/route', { prompt: 'which one?', strategy: 'cost-optimized' });
    const body = (await res.json()) as { selectedModel: string; strategy: string; order: string[]; reason: string; candidates: unknown[] };
    expect(body).toMatchObject({ selectedModel: 'cheap', strategy: 'cost-optimized' });
    expect(body.order[0]).toBe('cheap');
    expect(body.reason.length).toBeGreaterThan(0);
    expect(body.candidates).toHaveLength(2);
    expect(h.router.models().every((m) => m.stats.requests === 0)).toBe(true);
  });
});

describe("routing explanations show a tenant other tenants' traffic on shared deployments no more than /api/status does", () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  interface Candidate {
    name: string;
    rank: number;
    stats: Record<string, unknown>;
    factors?: Record<string, number>;
  }
  interface Decision {
    reason: string;
    candidates: Candidate[];
  }

  it('/api/route and llmrr.explain (JSON, stream, x-llmrr-decision): a shared candidate keeps its circuit, its own model its counts', async () => {
    h = await createHarness({
      stores: 'memory',
      models: [mockModel('shared', {}, { quality: 0.95 })],
      routing: { strategy: 'adaptive', options: { adaptive: { explorationScale: 0.001 } } },
    });
    const s = h.stores!;
    await s.tenants.createTenant({ id: 'acme', name: 'Acme' });
    await s.tenants.createTenant({ id: 'globex', name: 'Globex', models: [{ name: 'own', engine: 'mock', quality: 0.05, capabilities: ['chat', 'streaming', 'completion'] }] });
    const acme = { authorization: `Bearer ${(await s.tenants.createKey('acme', { name: 'k' })).secret}` };
    const globex = { authorization: `Bearer ${(await s.tenants.createKey('globex', { name: 'k' })).secret}` };
    for (let i = 0; i < 3; i++) expect((await post(h.gateway, '/v1/chat/completions', { model: 'shared', messages: [{ role: 'user', content: `secret ${i}` }] }, acme)).status).toBe(200);
    expect((await post(h.gateway, '/v1/completions', { model: 'own', prompt: 'mine' }, globex)).status).toBe(200);

    // The policy: globex sees the shared deployment's circuit only.
    const status = (await (await get(h.gateway, '/api/status', globex)).json()) as { deployments: Array<Record<string, unknown>> };
    expect(status.deployments.find((d) => d.name === 'shared')).toEqual({ name: 'shared', engine: 'mock', model: 'shared', circuit: 'closed' });

    const hidden = (d: Decision) => {
      const shared = d.candidates.find((c) => c.name === 'shared')!;
      expect(shared.rank).toBe(1);
      expect(shared.stats).toEqual({ circuit: 'closed' });
      expect(Object.keys(shared.factors!).sort()).toEqual(['expectedCostUsd', 'expectedQuality', 'priorQuality', 'sampledQuality', 'score']);
      expect(d.reason).toMatch(/^"shared" ranked first by adaptive \(priorQuality=[^)]*score=[^)]*\) ahead of 1 other candidate/);
      expect(d.reason).not.toMatch(/observations=|latencyMs=/);
      // Its own model: its traffic in full.
      const own = d.candidates.find((c) => c.name === 'own')!;
      expect(own.stats).toMatchObject({ requests: 1, failures: 0 });
      expect(own.factors!['observations']).toBeGreaterThan(0);
    };
    hidden((await (await post(h.gateway, '/api/route', { prompt: 'hi' }, globex)).json()) as Decision);

    const json = await post(h.gateway, '/v1/completions', { model: 'auto', prompt: 'hi', llmrr: { explain: true } }, globex);
    hidden(((await json.json()) as { llmrr: { decision: Decision } }).llmrr.decision);
    expect((JSON.parse(json.headers.get('x-llmrr-decision')!) as { reason: string }).reason).not.toMatch(/observations=/);

    const stream = await post(h.gateway, '/v1/chat/completions', { model: 'auto', stream: true, messages: [{ role: 'user', content: 'hi' }], llmrr: { explain: true } }, globex);
    const chunks = (await stream.text())
      .split('\n')
      .filter((l) => l.startsWith('data: {'))
      .map((l) => JSON.parse(l.slice(6)) as { llmrr?: { decision: Decision } });
    hidden(chunks.find((c) => c.llmrr)!.llmrr!.decision);

    // The router's own explanation is unchanged: the shared deployment's counts, every tenant's calls.
    const core = await h.router.route('hi', { tenant: 'globex', explain: true });
    expect(core.candidates.find((c) => c.name === 'shared')!.stats.requests).toBeGreaterThanOrEqual(3);
  });

  it('a gateway without stores (one user) shows every candidate its counts', async () => {
    h = await createHarness({ models: [mockModel('shared')], routing: { strategy: 'adaptive' } });
    expect((await post(h.gateway, '/v1/completions', { model: 'shared', prompt: 'hi' })).status).toBe(200);
    const route = (await (await post(h.gateway, '/api/route', { prompt: 'hi' })).json()) as Decision;
    expect(route.candidates[0]!.stats).toMatchObject({ requests: 1, circuit: 'closed' });
    expect(route.candidates[0]!.factors!['observations']).toBeGreaterThan(0);
    expect(route.reason).toMatch(/observations=/);
  });
});

describe('/api/quick and /api/route name the body field `prompt`', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('a prompt past every context window is a 400 naming `prompt` (as /v1/completions), not core\'s `messages`', async () => {
    h = await createHarness({ models: [mockModel('a', {}, { contextWindow: 20 })] });
    const prompt = 'word '.repeat(100);
    const completions = (await (await post(h.gateway, '/v1/completions', { model: 'a', prompt })).json()) as { error: { code: string; param: string } };
    expect(completions.error).toMatchObject({ code: 'context_length_exceeded', param: 'prompt' });
    for (const path of ['/api/quick', '/api/route']) {
      const res = await post(h.gateway, path, { prompt, model: 'a' });
      expect(res.status, path).toBe(400);
      const body = (await res.json()) as { error: { code: string; param: string } };
      expect(body.error, path).toMatchObject({ code: 'context_length_exceeded', param: 'prompt' });
    }
  });
});
