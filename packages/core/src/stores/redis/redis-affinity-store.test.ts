/**
 * Prompt-cache affinity shared through a real Redis (started by vitest.global-setup.ts): two routers, each
 * on its own connection like two gateway processes, agree where a conversation's prompt is cached.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { MockEngine } from '../../engines/mock/mock-engine.js';
import { LLMRouter } from '../../router/llm-router.js';
import type { ChatMessage, GenerateRequest } from '../../spec/index.js';
import { testServiceUrls } from '../__fixtures__/store-fixtures.js';
import { RedisAffinityStore } from './redis-affinity-store.js';

const { redisUrl } = testServiceUrls();
const skip = redisUrl ? undefined : 'Redis affinity store tests skipped: Redis (LLMRR_TEST_REDIS_URL) not available (install redis-server, see tools/services)';
if (skip) console.warn(skip);

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

async function store(prefix: string): Promise<RedisAffinityStore> {
  const s = await RedisAffinityStore.connect(redisUrl!, { keyPrefix: prefix });
  closers.push(() => s.close());
  return s;
}

function router(affinityStore: RedisAffinityStore): LLMRouter {
  const engines = { 'd-a': new MockEngine({ modelId: 'same', reply: 'a' }), 'd-b': new MockEngine({ modelId: 'same', reply: 'b' }) };
  const r = new LLMRouter(
    { models: [{ name: 'd-a', engine: 'mock', model: 'same' }, { name: 'd-b', engine: 'mock', model: 'same' }], routing: { strategy: 'round-robin', retries: { max: 0 } } },
    { engines, promptCacheAffinityStore: affinityStore },
  );
  closers.push(() => r.close());
  return r;
}

const mark = { type: 'ephemeral' } as const;
function turn(n: number): GenerateRequest {
  const messages: ChatMessage[] = [{ role: 'system', content: 'Shared system prompt. '.repeat(50), cacheControl: mark }];
  for (let i = 1; i <= n; i++) {
    messages.push({ role: 'user', content: `question ${i}`, ...(i === n ? { cacheControl: mark } : {}) });
    if (i < n) messages.push({ role: 'assistant', content: `answer ${i}` });
  }
  return { messages };
}

describe.skipIf(skip !== undefined)('RedisAffinityStore', () => {
  it('two routers (two connections) send a conversation to the deployment where its prompt was cached', async () => {
    const prefix = `test:${randomBytes(6).toString('hex')}:affinity:`;
    const r1 = router(await store(prefix));
    const r2 = router(await store(prefix));
    // Round-robin starts at an offset of its own (the same in both routers) and moves r1 on to the other deployment.
    const first = (await r1.generate('unmarked')).deployment;
    const other = first === 'd-a' ? 'd-b' : 'd-a';
    expect((await r1.generate(turn(1))).deployment).toBe(other);
    // r2's round-robin would start at `first`: the shared store sends the next turns to `other`.
    expect((await r2.route('unmarked')).order[0]).toBe(first);
    for (let n = 2; n <= 4; n++) {
      expect((await r2.generate(turn(n))).deployment).toBe(other);
      expect((await r1.generate(turn(n))).deployment).toBe(other);
    }
    const decision = await r2.route(turn(5));
    expect(decision.affinity).toMatchObject({ remembered: other });
  });

  it('find returns, per model, the first remembered key in order with its TTL; models do not overwrite each other; Redis expires keys', async () => {
    const s = await store(`test:${randomBytes(6).toString('hex')}:affinity:`);
    await s.remember([{ key: 'long', ttlMs: 60_000 }, { key: 'short', ttlMs: 50 }], 'model:x', 'dep:with:colons');
    await s.remember([{ key: 'long', ttlMs: 60_000 }], 'model-y', 'dep-y');
    expect(await s.find(['missing', 'short', 'long'], ['model:x', 'model-y', 'model-z'])).toEqual([
      { key: 'short', model: 'model:x', deployment: 'dep:with:colons', ttlMs: 50 },
      { key: 'long', model: 'model-y', deployment: 'dep-y', ttlMs: 60_000 },
    ]);
    for (let i = 0; i < 100 && (await s.find(['short'], ['model:x'])).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await s.find(['short', 'long'], ['model:x'])).toEqual([{ key: 'long', model: 'model:x', deployment: 'dep:with:colons', ttlMs: 60_000 }]);
    expect(await s.find([], ['model:x'])).toEqual([]);
  });

  it('refuses bad options with config_invalid naming the option', async () => {
    await expect(RedisAffinityStore.connect('')).rejects.toMatchObject({ code: 'config_invalid', param: 'url' });
  });
});
