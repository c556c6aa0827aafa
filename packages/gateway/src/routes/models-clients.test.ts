import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveGateway, type ServedGateway } from '../node/serve-gateway.js';
import { createHarness, mockModel, type Harness } from '../test-support/harness.js';

// The official clients against a real gateway over node:http: model retrieval and the Anthropic model
// list and token count, as `client.models.*` and `client.messages.countTokens` call them.

let h: Harness;
let served: ServedGateway;
let secret: string;
let narrow: string;

beforeAll(async () => {
  h = await createHarness({
    stores: 'memory',
    models: [
      mockModel('mock'),
      mockModel('openai/gpt-4o', {}, { contextWindow: 128000 }),
      mockModel('m3', {}, { alias: 'fast' }),
      mockModel('m4', {}, { alias: 'fast', capabilities: ['chat', 'vision'] }),
      mockModel('m5'),
    ],
  });
  await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme' });
  secret = (await h.stores!.tenants.createKey('acme', { name: 'sdk' })).secret;
  await h.stores!.tenants.createTenant({ id: 'narrow', name: 'Narrow', allowedModels: ['mock'] });
  narrow = (await h.stores!.tenants.createKey('narrow', { name: 'sdk' })).secret;
  served = await serveGateway(h.gateway, { port: 0 });
});
afterAll(async () => {
  await served?.close(1000);
  await h?.close();
});

describe('official openai client: models.retrieve', () => {
  const paths: string[] = [];
  const client = (apiKey = secret) =>
    new OpenAI({
      baseURL: `${served.url}/v1`,
      apiKey,
      maxRetries: 0,
      fetch: (url, init) => {
        paths.push(new URL(String(url)).pathname);
        return fetch(url, init);
      },
    });

  it('retrieves a model, a slash name included (the SDK sends it as %2F)', async () => {
    expect(await client().models.retrieve('mock')).toMatchObject({ id: 'mock', object: 'model', owned_by: 'llmrr-mock' });
    paths.length = 0;
    const m = await client().models.retrieve('openai/gpt-4o');
    expect(m).toMatchObject({ id: 'openai/gpt-4o', object: 'model', created: expect.any(Number) });
    expect(paths).toEqual(['/v1/models/openai%2Fgpt-4o']);
    const listed = [];
    for await (const x of client().models.list()) listed.push(x);
    expect(listed.find((x) => x.id === 'openai/gpt-4o')).toEqual(m);
  });

  it('models.list has each alias once, after the deployments, with the deployments it stands for; retrieve takes it', async () => {
    const listed: OpenAI.Model[] = [];
    for await (const x of client().models.list()) listed.push(x);
    expect(listed.map((x) => x.id)).toEqual(['mock', 'openai/gpt-4o', 'm3', 'm4', 'm5', 'fast']);
    const alias = listed.at(-1) as OpenAI.Model & { llmrr: { engine: string; alias_of: string[]; capabilities: string[] } };
    expect(alias).toMatchObject({ id: 'fast', object: 'model', owned_by: 'llmrr', llmrr: { engine: 'alias', alias_of: ['m3', 'm4'] } });
    // What some deployment of the alias can do (m3 every mock capability, m4 vision too).
    expect(alias.llmrr.capabilities).toContain('vision');
    expect(alias.llmrr.capabilities).toContain('tools');
    expect(await client().models.retrieve('fast')).toEqual(alias);
    // A key that sees none of the alias's deployments does not see the alias.
    const mine: string[] = [];
    for await (const x of client(narrow).models.list()) mine.push(x.id);
    expect(mine).toEqual(['mock']);
  });

  it('a model the key may not see, or none at all: NotFoundError naming model', async () => {
    for (const [key, id] of [
      [narrow, 'openai/gpt-4o'],
      [secret, 'nope'],
    ] as const) {
      const e = await client(key)
        .models.retrieve(id)
        .catch((err: unknown) => err);
      expect(e, id).toBeInstanceOf(OpenAI.NotFoundError);
      expect((e as InstanceType<typeof OpenAI.NotFoundError>).param).toBe('model');
      expect((e as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');
    }
    await expect(client('llmrr_wrong').models.retrieve('mock')).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });
});

describe('official anthropic client', () => {
  const client = (apiKey = secret) => new Anthropic({ baseURL: served.url, apiKey, maxRetries: 0 });

  it('models.list: the Anthropic page shape, auto-paginated', async () => {
    const first = await client().models.list({ limit: 2 });
    expect(first.data.map((m) => m.id)).toEqual(['mock', 'openai/gpt-4o']);
    expect(first).toMatchObject({ has_more: true, first_id: 'mock', last_id: 'openai/gpt-4o' });
    expect(first.data[1]).toMatchObject({ type: 'model', display_name: 'openai/gpt-4o', created_at: '1970-01-01T00:00:00Z', max_input_tokens: 128000 });
    const all: string[] = [];
    for await (const m of client().models.list({ limit: 2 })) all.push(m.id);
    expect(all).toEqual(['mock', 'openai/gpt-4o', 'm3', 'm4', 'm5']);
    const mine: string[] = [];
    for await (const m of client(narrow).models.list()) mine.push(m.id);
    expect(mine).toEqual(['mock']);
  });

  it('models.retrieve, with x-api-key and with a bearer token', async () => {
    expect(await client().models.retrieve('openai/gpt-4o')).toMatchObject({ type: 'model', id: 'openai/gpt-4o' });
    const bearer = new Anthropic({ baseURL: served.url, apiKey: null, authToken: secret, maxRetries: 0 });
    expect(await bearer.models.retrieve('m3')).toMatchObject({ type: 'model', id: 'm3' });
    await expect(client(narrow).models.retrieve('m3')).rejects.toBeInstanceOf(Anthropic.NotFoundError);
    await expect(client().models.list({ after_id: 'nope' })).rejects.toBeInstanceOf(Anthropic.BadRequestError);
  });

  it('messages.countTokens', async () => {
    const count = await client().messages.countTokens({ model: 'mock', system: 'Be brief.', messages: [{ role: 'user', content: 'hello there' }] });
    // The mock engine's own count (words of the messages); its engine estimates, so the header says so.
    expect(count).toEqual({ input_tokens: 4 });
    const raw = await client().messages.countTokens({ model: 'mock', messages: [{ role: 'user', content: 'hello there' }] }).asResponse();
    expect(raw.headers.get('x-llmrr-token-count')).toBe('estimate');
    const tooled = await client().messages.countTokens({
      model: 'openai/gpt-4o',
      messages: [{ role: 'user', content: 'weather?' }],
      tools: [{ name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
    });
    expect(tooled.input_tokens).toBe(1); // "weather?": the mock engine counts no tool schemas
    // The beta resource (what Claude Code uses) adds `?beta=true` and an `anthropic-beta` header.
    const beta = await client().beta.messages.countTokens({ model: 'mock', system: 'Be brief.', messages: [{ role: 'user', content: 'hello there' }], betas: ['token-counting-2024-11-01'] });
    expect(beta).toEqual({ input_tokens: 4 });
    const ledger = await h.stores!.ledger.query({ tenantId: 'acme' });
    expect(ledger).toEqual([]);
  });

  it('countTokens errors are the SDK typed errors', async () => {
    const bad = await client()
      .messages.countTokens({ model: 'mock', messages: [] })
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(Anthropic.BadRequestError);
    expect((bad as InstanceType<typeof Anthropic.BadRequestError>).error).toMatchObject({ type: 'error', error: { param: 'messages' } });
    await expect(client(narrow).messages.countTokens({ model: 'm3', messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(Anthropic.NotFoundError);
    await expect(client('llmrr_wrong').messages.countTokens({ model: 'mock', messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
  });
});
