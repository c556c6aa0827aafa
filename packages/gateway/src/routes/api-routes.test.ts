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
