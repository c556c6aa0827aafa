import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
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

  it('/api/route counts against the tenant\'s limits as a request with no tokens: its headers, a 429 past them, its place given back once planned', async () => {
    const limited = await createHarness({ models: [mockModel('cheap')], stores: 'memory' });
    try {
      await limited.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', limits: { rpm: 2, tpm: 1_000, maxConcurrency: 1 } });
      const { secret } = await limited.stores!.tenants.createKey('acme', { name: 'k' });
      const auth = { authorization: `Bearer ${secret}` };
      const shown = (r: Response) => ['remaining-requests', 'remaining-tokens', 'remaining-concurrency'].map((n) => r.headers.get(`x-ratelimit-${n}`));
      const first = await post(limited.gateway, '/api/route', { prompt: 'which one?' }, auth);
      expect(first.status, await first.clone().text()).toBe(200);
      // One request counted, no tokens, the concurrency place free again.
      expect(shown(first)).toEqual(['1', '1000', '1']);
      expect((await post(limited.gateway, '/api/route', { prompt: 'which one?' }, auth)).status).toBe(200);
      const refused = await post(limited.gateway, '/api/route', { prompt: 'which one?' }, auth);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(shown(refused)[0]).toBe('0');
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
      expect(await limited.stores!.rateLimiter.peek([{ kind: 'tenant', id: 'acme', limits: { maxConcurrency: 1 } }])).toMatchObject({ remainingConcurrency: 1 });
    } finally {
      await limited.close();
    }
  });

  it('/api/route holds its concurrency place while it plans: maxConcurrency 1, one preview planning, two more are 429; a failed plan gives it back', async () => {
    const limited = await createHarness({ models: [mockModel('a'), mockModel('b')], stores: 'memory' });
    const router = limited.router;
    const route = router.route.bind(router);
    try {
      await limited.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', limits: { maxConcurrency: 1 } });
      const { secret } = await limited.stores!.tenants.createKey('acme', { name: 'k' });
      const call = () => post(limited.gateway, '/api/route', { prompt: 'which one?' }, { authorization: `Bearer ${secret}` });
      let planning = 0;
      let most = 0;
      let open!: () => void;
      const gate = new Promise<void>((r) => (open = r));
      let fail = false;
      // The plan takes a while (a remote embedding of the prompt: the intelligent strategy's): held until the gate opens.
      router.route = (async (...args: Parameters<typeof route>) => {
        planning++;
        most = Math.max(most, planning);
        try {
          await gate;
          if (fail) throw new Error('the embedding service is down');
          return await route(...args);
        } finally {
          planning--;
        }
      }) as typeof router.route;
      const settled: Response[] = [];
      const started = (r: Promise<Response>) => {
        void r.then((res) => settled.push(res));
        return r;
      };
      // One preview planning, then two more.
      const first = started(call());
      await vi.waitFor(() => expect(planning).toBe(1), { timeout: 10_000, interval: 20 });
      const replies = [first, started(call()), started(call())];
      // Each is either planning or answered (a 429 when its place was refused).
      await vi.waitFor(() => expect(planning + settled.length).toBe(3), { timeout: 10_000, interval: 20 });
      const atOnce = planning;
      open();
      const answered = await Promise.all(replies);
      expect({ atOnce, most, statuses: answered.map((r) => r.status).sort() }).toEqual({ atOnce: 1, most: 1, statuses: [200, 429, 429] });
      const ok = answered.find((r) => r.status === 200)!;
      // Answered once its place is given back: the headers say it is free again.
      expect(ok.headers.get('x-ratelimit-remaining-concurrency')).toBe('1');
      const busy = answered.find((r) => r.status === 429)!;
      expect(((await busy.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
      expect(busy.headers.get('x-ratelimit-remaining-concurrency')).toBe('0');
      // A plan that fails gives its place back too: the next preview plans.
      fail = true;
      expect((await call()).status).toBeGreaterThanOrEqual(500);
      fail = false;
      expect((await call()).status).toBe(200);
      expect(await limited.stores!.rateLimiter.peek([{ kind: 'tenant', id: 'acme', limits: { maxConcurrency: 1 } }])).toMatchObject({ remainingConcurrency: 1 });
    } finally {
      router.route = route;
      await limited.close();
    }
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
    score?: number;
    note?: string;
    stats: Record<string, unknown>;
    factors?: Record<string, number>;
  }
  interface Decision {
    reason: string;
    candidates: Candidate[];
    excluded: Array<{ name: string; reason: string; kind: string }>;
  }

  /** Two tenants without own models, each with a key, over the shared `models` ranked by `strategy`. */
  async function twoTenants(models: Parameters<typeof mockModel>[], strategy: string) {
    h = await createHarness({ stores: 'memory', models: models.map((m) => mockModel(...m)), routing: { strategy } });
    const s = h.stores!;
    await s.tenants.createTenant({ id: 'acme', name: 'Acme' });
    await s.tenants.createTenant({ id: 'globex', name: 'Globex' });
    const acme = { authorization: `Bearer ${(await s.tenants.createKey('acme', { name: 'k' })).secret}` };
    const globex = { authorization: `Bearer ${(await s.tenants.createKey('globex', { name: 'k' })).secret}` };
    return { h, acme, globex };
  }

  const routeOf = async (who: Record<string, string>) => (await (await post(h!.gateway, '/api/route', { prompt: 'hi', explain: true }, who)).json()) as Decision;

  /** Acme's call held in flight on `model` (the mock answers after a long delay) until `run` settles. */
  async function whileInFlight(model: string, acme: Record<string, string>, run: () => Promise<void>): Promise<void> {
    const ac = new AbortController();
    const pending = h!.gateway
      .fetch(new Request('http://gateway.test/v1/completions', { method: 'POST', signal: ac.signal, headers: { 'content-type': 'application/json', ...acme }, body: JSON.stringify({ model, prompt: 'acme secret' }) }))
      .catch(() => undefined);
    try {
      await expect.poll(() => h!.router.models().find((m) => m.name === model)!.stats.inFlight, { timeout: 10_000 }).toBe(1);
      await run();
    } finally {
      ac.abort();
      await pending;
    }
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
      // An allow-list: what is config or visible anyway, no score, factors nor note (the shared posterior's means).
      expect(shared).toEqual({ name: 'shared', model: 'shared', engine: 'mock', rank: 1, stats: { circuit: 'closed' }, price: expect.objectContaining({ input: 1, output: 2 }) });
      expect(d.reason).toBe('"shared" ranked first by adaptive.');
      // Its own model: its traffic in full.
      const own = d.candidates.find((c) => c.name === 'own')!;
      expect(own.stats).toMatchObject({ requests: 1, failures: 0 });
      expect(own.factors!['observations']).toBeGreaterThan(0);
    };
    hidden((await (await post(h.gateway, '/api/route', { prompt: 'hi' }, globex)).json()) as Decision);

    const json = await post(h.gateway, '/v1/completions', { model: 'auto', prompt: 'hi', llmrr: { explain: true } }, globex);
    hidden(((await json.json()) as { llmrr: { decision: Decision } }).llmrr.decision);
    expect((JSON.parse(json.headers.get('x-llmrr-decision')!) as { reason: string }).reason).toBe('"shared" ranked first by adaptive.');

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

  it("speed-priority and least-loaded: a shared candidate has no score (minus another tenant's latency / calls in flight)", async () => {
    const { acme, globex } = await twoTenants([['shared', { delayMs: 40 }], ['other', { delayMs: 40 }]], 'speed-priority');
    for (const model of ['shared', 'other']) expect((await post(h!.gateway, '/v1/completions', { model, prompt: 'acme secret' }, acme)).status).toBe(200);
    const core = await h!.router.route('hi', { tenant: 'globex', explain: true });
    expect(core.candidates.find((c) => c.name === 'shared')!.score).toBe(-core.candidates.find((c) => c.name === 'shared')!.factors!['latencyMs']!);
    const shown = (await routeOf(globex)).candidates.find((c) => c.name === 'shared')!;
    expect([shown.score, shown.factors, shown.note]).toEqual([undefined, undefined, undefined]);
    await h!.close();

    const loaded = await twoTenants([['shared', { delayMs: 60_000 }], ['idle', {}]], 'least-loaded');
    await whileInFlight('shared', loaded.acme, async () => {
      const c = (await routeOf(loaded.globex)).candidates.find((x) => x.name === 'shared')!;
      expect(c.stats).toEqual({ circuit: 'closed' });
      expect([c.score, c.factors]).toEqual([undefined, undefined]);
    });
  });

  it("speed-priority: what a tenant sees of a shared deployment (note, reason) does not change with another tenant's first call", async () => {
    const { acme, globex } = await twoTenants([['shared', {}]], 'speed-priority');
    const before = await routeOf(globex);
    expect((await h!.router.route('hi', { tenant: 'globex', explain: true })).candidates[0]!.note).toBe('unmeasured: explored first');
    expect((await post(h!.gateway, '/v1/completions', { model: 'shared', prompt: 'acme secret' }, acme)).status).toBe(200);
    const after = await routeOf(globex);
    expect(after.candidates[0]!.note).toBeUndefined();
    expect([after.candidates[0], after.reason]).toEqual([before.candidates[0], before.reason]);
    expect(after.reason).toBe('"shared" ranked first by speed-priority.');
  });

  it("adaptive: a shared candidate's expected and sampled quality (moved by another tenant's calls) are not shown", async () => {
    const { acme, globex } = await twoTenants([['shared', {}], ['other', {}]], 'adaptive');
    const before = (await routeOf(globex)).candidates.find((c) => c.name === 'shared')!;
    for (let i = 0; i < 3; i++) expect((await post(h!.gateway, '/v1/completions', { model: 'shared', prompt: 'acme secret' }, acme)).status).toBe(200);
    const after = (await routeOf(globex)).candidates.find((c) => c.name === 'shared')!;
    expect(after.factors).toBeUndefined();
    // The ranking itself may move (it is what the router does with the shared state); nothing else shown does.
    expect(after).toEqual({ ...before, rank: after.rank });
  });

  it("round-robin: another tenant's calls neither move a tenant's turn nor can be counted from its picks (x-llmrr-model)", async () => {
    const { acme, globex } = await twoTenants([['one', {}], ['two', {}]], 'round-robin');
    const served = async (who: Record<string, string>) => {
      const res = await post(h!.gateway, '/v1/chat/completions', { model: 'auto', messages: [{ role: 'user', content: 'hi' }] }, who);
      expect(res.status).toBe(200);
      await res.text();
      return res.headers.get('x-llmrr-model');
    };
    const picks: Array<string | null> = [];
    for (let i = 0; i < 4; i++) {
      await served(acme); // one call of acme before each of globex's
      picks.push(await served(globex));
    }
    expect(picks).toEqual(['one', 'two', 'one', 'two']);
  });

  it("an excluded shared deployment's reason is cut to its kind (saturated: no in-flight count of another tenant's calls)", async () => {
    const { acme, globex } = await twoTenants([['shared', { delayMs: 60_000 }, { limits: { maxConcurrency: 1 } }], ['idle', {}]], 'priority');
    await whileInFlight('shared', acme, async () => {
      const core = await h!.router.route('hi', { tenant: 'globex', explain: true });
      expect(core.excluded.find((e) => e.name === 'shared')).toMatchObject({ kind: 'saturated', reason: expect.stringMatching(/in flight/) });
      expect((await routeOf(globex)).excluded.find((e) => e.name === 'shared')).toEqual({ name: 'shared', kind: 'saturated', reason: 'saturated' });
    });
  });

  it("the 429 when every deployment is excluded lists a shared one's reason cut as explain cuts it (no other tenant's in-flight count); the router's error keeps it", async () => {
    const { acme, globex } = await twoTenants([['shared', { delayMs: 60_000 }, { limits: { maxConcurrency: 1 } }]], 'priority');
    await whileInFlight('shared', acme, async () => {
      const full = await h!.router.route('hi', { tenant: 'globex', model: 'shared' }).then(() => undefined, (e: unknown) => e as Error);
      expect(full?.message).toMatch(/shared: saturated: .*in flight/);
      const body = { model: 'shared', messages: [{ role: 'user', content: 'hi' }], llmrr: { explain: true } };
      for (const res of [
        await post(h!.gateway, '/v1/chat/completions', body, globex),
        await post(h!.gateway, '/api/route', { prompt: 'hi', model: 'shared', explain: true }, globex),
        await post(h!.gateway, '/v1/embeddings', { model: 'shared', input: 'hi' }, globex),
        await post(h!.gateway, '/v1/chat/completions', { ...body, stream: true }, globex),
        await post(h!.gateway, '/v1/responses', { model: 'shared', input: 'hi' }, globex),
      ]) {
        expect(res.status).toBe(429);
        const { error } = (await res.json()) as { error: { code: string; message: string } };
        expect(error.code).toBe('rate_limited');
        expect(error.message).toMatch(/\n {2}shared: saturated$/);
        expect(error.message).not.toMatch(/in flight/);
      }
    });
  });

  it("ownership is the router's: a stored model that could not be set is not the tenant's, so the shared deployment of that name shows its circuit only", async () => {
    h = await createHarness({ stores: 'memory', models: [mockModel('shared'), mockModel('other')], routing: { strategy: 'adaptive' } });
    const s = h.stores!;
    await s.tenants.createTenant({ id: 'acme', name: 'Acme' });
    // Stored straight in the store (as another process or an older version may have): an engine the router cannot make.
    await s.tenants.createTenant({ id: 'globex', name: 'Globex', models: [{ name: 'shared', engine: 'no-such-engine' } as never] });
    const acme = { authorization: `Bearer ${(await s.tenants.createKey('acme', { name: 'k' })).secret}` };
    const globex = { authorization: `Bearer ${(await s.tenants.createKey('globex', { name: 'k' })).secret}` };
    for (let i = 0; i < 3; i++) expect((await post(h.gateway, '/v1/completions', { model: 'shared', prompt: 'acme secret' }, acme)).status).toBe(200);
    const shown = (await routeOf(globex)).candidates.find((c) => c.name === 'shared')!;
    // globex is served the shared deployment (its own model was not set).
    const served = h.router.models('globex').find((m) => m.name === 'shared')!;
    expect([served.engine, served.tenant]).toEqual(['mock', undefined]);
    expect(shown.stats).toEqual({ circuit: 'closed' });
    const status = (await (await get(h.gateway, '/api/status', globex)).json()) as { deployments: Array<Record<string, unknown>> };
    expect(status.deployments.find((d) => d.name === 'shared')).toEqual({ name: 'shared', engine: 'mock', model: 'shared', circuit: 'closed' });
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
