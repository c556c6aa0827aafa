import { tenantScopedId } from '@llmrr/core';
import type { AnthropicWireServer, OpenAIWireServer } from '@llmrr/core/test';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clearRequests, type SdkGateway } from '../test-support/served-gateway.js';
import { servedOverWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// Edges of prompt_cache_key (found in review of 6830353): a key over OpenAI's 64 characters is a hint, never a 400,
// wherever it goes; the Responses object echoes the key as sent, JSON and streamed.

let openaiUp: OpenAIWireServer;
let claudeUp: AnthropicWireServer;
let gw: SdkGateway;

const caps: Array<'chat' | 'streaming' | 'tools'> = ['chat', 'streaming', 'tools'];

beforeAll(async () => {
  ({ gw, upstreams: { openai: openaiUp, anthropic: claudeUp } } = await servedOverWireUpstreams((u) => [
    wireDeployment(u, 'gpt', { preset: 'openai', model: 'gpt-openai' }),
    { name: 'local', engine: 'openai-compatible', baseURL: u.openai.baseURL, model: 'gpt-local', capabilities: caps },
    wireDeployment(u, 'claude'),
  ]));
});
afterAll(() => gw?.close());
afterEach(() => clearRequests(openaiUp, claudeUp));

// A session id as agents build them (e.g. `<uuid>:sub:<uuid>`, 77 characters): over OpenAI's 64.
const LONG_KEY = `${'0199b7c6-6a3e-7b32-9a5d-1c2e3f4a5b6c'}:sub:${'0199b7c6-6a3e-7b32-9a5d-1c2e3f4a5b6d'}`;

async function post(path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${gw.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.secret}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('review 6830353: a key longer than 64 characters for a deployment that never receives it', () => {
  // Before 6830353 /v1/responses took any string here (z.string()) and /v1/chat/completions ignored the field, so
  // these requests were answered. Core's own rule (prompt-cache-key.ts, "Where the key is not sent, its length is
  // nobody's business") keeps them valid; only the gateway schema now refuses them, whatever the deployment.
  it('/v1/responses to an Anthropic deployment is still answered (was 200 before the commit)', async () => {
    expect(LONG_KEY.length).toBeGreaterThan(64);
    const { status, json } = await post('/v1/responses', { model: 'claude', input: 'Hi', prompt_cache_key: LONG_KEY, store: false });
    expect(status, JSON.stringify(json)).toBe(200);
    expect(claudeUp.requests).toHaveLength(1);
  });

  it('/v1/chat/completions to a generic OpenAI-compatible deployment is still answered (the field was ignored before)', async () => {
    const { status, json } = await post('/v1/chat/completions', { model: 'local', messages: [{ role: 'user', content: 'Hi' }], prompt_cache_key: LONG_KEY });
    expect(status, JSON.stringify(json)).toBe(200);
    expect(openaiUp.requests).toHaveLength(1);
    expect(openaiUp.requests[0]!.body).not.toHaveProperty('prompt_cache_key');
  });
});

describe('review 6830353: the Responses object echoes prompt_cache_key', () => {
  // OpenAI's Response object carries `prompt_cache_key` (openai 6.49 `Response.prompt_cache_key?: string | null`),
  // echoed from the request like `user` and `metadata`, which the gateway's echo does carry.
  it('JSON: response.prompt_cache_key is the key the client sent', async () => {
    const key = '0199b7c6-6a3e-7b32-9a5d-1c2e3f4a5b6c';
    const response = await gw.openai().responses.create({ model: 'gpt', input: 'Hi', prompt_cache_key: key, store: false, user: 'u-1' });
    expect(response.user).toBe('u-1');
    expect(response.prompt_cache_key).toBe(key);
  });

  it('streamed: response.created, in_progress and completed carry the key as sent; a request without one has none', async () => {
    const stream = await gw.openai().responses.create({ model: 'gpt', input: 'Hi', prompt_cache_key: LONG_KEY, store: false, stream: true });
    const seen: Array<[string, unknown]> = [];
    for await (const event of stream) {
      if (event.type === 'response.created' || event.type === 'response.in_progress' || event.type === 'response.completed') seen.push([event.type, event.response.prompt_cache_key]);
    }
    expect(seen).toEqual([
      ['response.created', LONG_KEY],
      ['response.in_progress', LONG_KEY],
      ['response.completed', LONG_KEY],
    ]);
    // The shared OpenAI deployment got the key's tenant-scoped form; the client sees its own key.
    expect((openaiUp.requests.at(-1)!.body as Record<string, unknown>).prompt_cache_key).toBe(tenantScopedId('acme', LONG_KEY));

    const nullKey = await post('/v1/responses', { model: 'gpt', input: 'Hi', prompt_cache_key: null, store: false });
    expect(nullKey.status).toBe(200);
    expect(nullKey.json).toHaveProperty('prompt_cache_key', null);
    const none = await post('/v1/responses', { model: 'gpt', input: 'Hi', store: false });
    expect(none.status).toBe(200);
    expect(none.json).not.toHaveProperty('prompt_cache_key');
  });
});
