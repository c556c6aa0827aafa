import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startAnthropicWireServer, startGeminiWireServer, type AnthropicWireServer, type GeminiWireServer } from '@llmrr/core/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, post, type Harness, type ModelInput } from '../test-support/harness.js';

// count_tokens with an engine whose count does network I/O (a provider count on the gateway's upstream key,
// Gemini's image downloads) is bounded by the key's and tenant's rpm and concurrency limits; refused, or
// for a demo principal, the engine's local estimate answers (marked), never a 429.

const PATH = '/v1/messages/count_tokens';
const ANTHROPIC = { 'anthropic-version': '2023-06-01' };
/** What the upstream count_tokens answers: a number no local estimate gives, so a test sees whose count it is. */
const UPSTREAM_COUNT = 4242;

let h: Harness;
let anthropic: AnthropicWireServer;
let gemini: GeminiWireServer;
let images: Server;
let imageUrl: string;
let imageHits = 0;

// A 1x1 PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

const claude = (): ModelInput => ({ name: 'claude', engine: 'anthropic', model: 'claude-wire-1', baseURL: anthropic.url, apiKey: 'sk-ant-up', options: { exactTokenCount: true } });
const gem = (): ModelInput => ({
  name: 'gem',
  engine: 'gemini',
  model: 'gemini-wire-1',
  baseURL: gemini.url,
  apiKey: 'gm-up',
  capabilities: ['chat', 'streaming', 'tools', 'json', 'vision'],
  // The image server is on 127.0.0.1: the deployment opts in to private image URLs.
  options: { exactTokenCount: true, allowPrivateImageUrls: true },
});

async function keyFor(tenant: string, limits: { rpm?: number; maxConcurrency?: number }): Promise<string> {
  await h.stores!.tenants.createTenant({ id: tenant, name: tenant, limits });
  return (await h.stores!.tenants.createKey(tenant, { name: 'k' })).secret;
}

const upstreamCounts = () => anthropic.requests.filter((r) => r.path === '/v1/messages/count_tokens').length;

beforeAll(async () => {
  anthropic = await startAnthropicWireServer({ apiKey: 'sk-ant-up', countTokens: () => UPSTREAM_COUNT });
  gemini = await startGeminiWireServer({ apiKey: 'gm-up' });
  images = createServer((_req, res) => {
    imageHits++;
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(PNG.length) });
    res.end(PNG);
  });
  await new Promise<void>((resolve) => images.listen(0, '127.0.0.1', resolve));
  imageUrl = `http://127.0.0.1:${(images.address() as AddressInfo).port}/pixel.png`;
  h = await createHarness({ stores: 'memory', models: [claude(), gem()] });
});

afterAll(async () => {
  await h.close();
  await anthropic.close();
  await gemini.close();
  await new Promise<void>((resolve) => images.close(() => resolve()));
});

describe('count_tokens: remote counts are bounded by the rpm and concurrency limits', () => {
  it('a key limited to 1 request a minute makes one provider count; the next counts are the local estimate, marked, all 200', async () => {
    const tiny = await keyFor('tiny', { rpm: 1 });
    anthropic.requests.length = 0;
    const answers: Array<[number, string | null, number]> = [];
    for (let i = 0; i < 5; i++) {
      const res = await post(h.gateway, PATH, { model: 'claude', messages: [{ role: 'user', content: 'count me please' }] }, { 'x-api-key': tiny, ...ANTHROPIC });
      answers.push([res.status, res.headers.get('x-llmrr-token-count'), ((await res.json()) as { input_tokens: number }).input_tokens]);
    }
    expect(upstreamCounts()).toBe(1);
    expect(answers[0]).toEqual([200, 'exact', UPSTREAM_COUNT]);
    const estimate = answers[1]!;
    expect(estimate[0]).toBe(200);
    expect(estimate[1]).toBe('estimate');
    expect(estimate[2]).toBeGreaterThan(0);
    expect(estimate[2]).not.toBe(UPSTREAM_COUNT);
    expect(answers.slice(1)).toEqual([estimate, estimate, estimate, estimate]);
    // The count used the key's one request of the minute: a call is now refused.
    expect((await post(h.gateway, '/v1/messages', { model: 'claude', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }, { 'x-api-key': tiny, ...ANTHROPIC })).status).toBe(429);
  });

  it("a Gemini exact count downloads the prompt's images once for a key limited to 1 request a minute", async () => {
    const tiny = await keyFor('tiny-gem', { rpm: 1 });
    imageHits = 0;
    const body = {
      model: 'gem',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this' }, { type: 'image', source: { type: 'url', url: imageUrl } }, { type: 'image', source: { type: 'url', url: imageUrl } }] }],
    };
    const marks: Array<string | null> = [];
    for (let i = 0; i < 3; i++) {
      const res = await post(h.gateway, PATH, body, { 'x-api-key': tiny, ...ANTHROPIC });
      expect(res.status).toBe(200);
      marks.push(res.headers.get('x-llmrr-token-count'));
      await res.text();
    }
    expect(marks).toEqual(['exact', 'estimate', 'estimate']);
    expect(imageHits).toBe(2);
  });

  it('a concurrency place is given back when a count ends (sequential counts under maxConcurrency 1 are all remote)', async () => {
    const one = await keyFor('one-at-a-time', { maxConcurrency: 1 });
    anthropic.requests.length = 0;
    for (let i = 0; i < 3; i++) {
      const res = await post(h.gateway, PATH, { model: 'claude', messages: [{ role: 'user', content: 'hi' }] }, { 'x-api-key': one, ...ANTHROPIC });
      expect(res.headers.get('x-llmrr-token-count')).toBe('exact');
      await res.text();
    }
    expect(upstreamCounts()).toBe(3);
  });

  it('a key without limits counts remotely every time', async () => {
    const free = await keyFor('free', {});
    anthropic.requests.length = 0;
    for (let i = 0; i < 3; i++) {
      const res = await post(h.gateway, PATH, { model: 'claude', messages: [{ role: 'user', content: 'hi' }] }, { 'x-api-key': free, ...ANTHROPIC });
      expect(await res.json()).toEqual({ input_tokens: UPSTREAM_COUNT });
    }
    expect(upstreamCounts()).toBe(3);
  });

  it('demo mode (no key): never a provider count, the local estimate marked as such', async () => {
    const demo = await createHarness({ stores: 'memory', models: [claude()], gateway: { auth: { demoTenantId: 'demo' } } });
    try {
      await demo.stores!.tenants.createTenant({ id: 'demo', name: 'Demo' });
      anthropic.requests.length = 0;
      const res = await post(demo.gateway, PATH, { model: 'claude', messages: [{ role: 'user', content: 'hi there' }] }, ANTHROPIC);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-llmrr-token-count')).toBe('estimate');
      expect(res.headers.get('x-llmrr-demo')).toBe('true');
      expect(((await res.json()) as { input_tokens: number }).input_tokens).not.toBe(UPSTREAM_COUNT);
      expect(upstreamCounts()).toBe(0);
    } finally {
      await demo.close();
    }
  });
});
