/**
 * Log probabilities from the router's exact cache, through a served gateway and the official `openai` client: a
 * repeated request is answered from the cache with the first answer's tokens, JSON and streamed (each content
 * chunk with its own tokens), and a request without logprobs never gets the logprobs entry.
 */
import { startOpenAIWireServer, wireLogprobs, type OpenAIWireServer } from '@llmrr/core/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

let gw: SdkGateway;
let upstream: OpenAIWireServer;

beforeAll(async () => {
  upstream = await startOpenAIWireServer({ script: { text: 'Paris is lovely' } });
  gw = await servedGateway({
    models: [{ name: 'gpt', engine: 'openai-compatible', baseURL: upstream.baseURL, model: 'gpt-test', apiKey: 'k', capabilities: ['chat', 'streaming'] }],
    cache: { exact: { enabled: true } },
    upstreams: [upstream],
  });
});
afterAll(() => gw?.close());

const WIRE = ['Paris ', 'is ', 'lovely'].flatMap((w) => wireLogprobs(w, 1));

describe('logprobs from the exact cache', () => {
  it('JSON and streamed hits carry the stored tokens; a request without logprobs is a different entry', async () => {
    const body = { model: 'gpt', messages: [{ role: 'user' as const, content: 'Paris?' }], logprobs: true, top_logprobs: 1, temperature: 0 };
    const first = await gw.openai().chat.completions.create(body);
    expect(first.choices[0]!.logprobs?.content).toEqual(WIRE);
    const { data: hit, response } = await gw.openai().chat.completions.create(body).withResponse();
    expect(response.headers.get('x-llmrr-cache')).toBe('hit-exact');
    expect(hit.choices[0]!.logprobs).toEqual({ content: WIRE, refusal: null });
    const stream = await gw.openai().chat.completions.create({ ...body, stream: true });
    const tokens: unknown[] = [];
    let text = '';
    for await (const chunk of stream) {
      const c = chunk.choices[0];
      if (!c?.delta.content) continue;
      text += c.delta.content;
      expect(c.logprobs?.content?.map((t) => t.token).join('')).toBe(c.delta.content);
      tokens.push(...(c.logprobs?.content ?? []));
    }
    expect(text).toBe('Paris is lovely');
    expect(tokens).toEqual(WIRE);
    expect(upstream.requests).toHaveLength(1);
    const plain = await gw.openai().chat.completions.create({ model: 'gpt', messages: body.messages, temperature: 0 });
    expect(plain.choices[0]!.logprobs).toBeNull();
    expect(upstream.requests).toHaveLength(2);
  });
});
