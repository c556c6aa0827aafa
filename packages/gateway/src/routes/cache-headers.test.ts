import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, mockModel, parseSse, post, type Harness } from '../test-support/harness.js';

const ask = (content: string, stream = false) => ({ model: 'chat', messages: [{ role: 'user', content }], ...(stream ? { stream: true } : {}) });

describe('cache headers with the semantic cache', () => {
  let h: Harness;
  afterEach(() => h.close());

  it('x-llmrr-cache: hit-semantic with x-llmrr-cache-score for a paraphrase, streamed or not; exact hits carry no score', async () => {
    h = await createHarness({
      models: [mockModel('chat'), mockModel('emb', {}, { capabilities: ['embeddings'] })],
      cache: { exact: { enabled: true }, semantic: { enabled: true, embedder: 'emb', threshold: 0.9, guardAbove: 0.9 } },
    });
    const first = await post(h.gateway, '/v1/chat/completions', ask('What is the capital of France?'));
    expect(first.headers.get('x-llmrr-cache')).toBe('miss');
    expect(first.headers.get('x-llmrr-cache-score')).toBeNull();
    const firstBody = (await first.json()) as { choices: Array<{ message: { content: string } }> };

    const exact = await post(h.gateway, '/v1/chat/completions', ask('What is the capital of France?'));
    expect(exact.headers.get('x-llmrr-cache')).toBe('hit-exact');
    expect(exact.headers.get('x-llmrr-cache-score')).toBeNull();

    const semantic = await post(h.gateway, '/v1/chat/completions', ask('what is the capital of france'));
    expect(semantic.headers.get('x-llmrr-cache')).toBe('hit-semantic');
    const score = Number(semantic.headers.get('x-llmrr-cache-score'));
    expect(score).toBeGreaterThanOrEqual(0.9);
    expect(score).toBeLessThan(1);
    const body = (await semantic.json()) as { choices: Array<{ message: { content: string } }>; llmrr: { cached: string; cost_usd: number } };
    expect(body.choices[0]!.message.content).toBe(firstBody.choices[0]!.message.content);
    expect(body.llmrr).toMatchObject({ cached: 'semantic', cost_usd: 0 });

    const streamed = await post(h.gateway, '/v1/chat/completions', ask('What is the capital of france', true));
    expect(streamed.headers.get('x-llmrr-cache')).toBe('hit-semantic');
    expect(Number(streamed.headers.get('x-llmrr-cache-score'))).toBeGreaterThanOrEqual(0.9);
    const frames = parseSse(await streamed.text());
    expect(frames.at(-1)?.data).toBe('[DONE]');
    const text = frames
      .filter((f) => f.data !== '[DONE]')
      .map((f) => (JSON.parse(f.data) as { choices: Array<{ delta?: { content?: string } }> }).choices[0]?.delta?.content ?? '')
      .join('');
    expect(text).toBe(firstBody.choices[0]!.message.content);
  });
});
