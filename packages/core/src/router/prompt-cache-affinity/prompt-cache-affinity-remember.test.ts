import { describe, expect, it } from 'vitest';
import '../../engines/index.js';
import type { AffinityKey } from './affinity-keys.js';
import { MemoryAffinityStore } from './affinity-store.js';
import type { GenerateRequest } from '../../spec/index.js';
import { anthropicDeployment as deployment, markedTurn, useTwoAnthropicWireServers } from './two-anthropic-deployments.test-helpers.js';

// Regressions from the review of 201538c (prompt-cache affinity review fixes): each test failed on that commit.

const wire = useTwoAnthropicWireServers();
const router = wire.router;

/** Turn `n` of one conversation over a marked system prompt, the last user turn marked. */
const turn = (n: number): GenerateRequest => markedTurn(n, { maxTokens: 16 });

describe('review 201538c: prompt-cache affinity', () => {
  it('bug: a turn served while the other deployment is not a candidate (allow-list, circuit open, at its limits) is not remembered, so the next turn forgets the deployment that holds the conversation', async () => {
    let now = 1_000_000;
    const r = router([deployment('claude-a', wire.a), deployment('claude-b', wire.b)], { strategy: 'round-robin' }, { now: () => now });
    const holder = (await r.generate(turn(1))).deployment;
    // 4 minutes later the other deployment drops out of the candidates for one turn (here a per-call allow-list;
    // an open circuit or a limit empties the same candidate list): the holder serves turn 2, reading turn 1's
    // cached prefix (which refreshes it at the provider) and writing turn 2's. With one candidate left,
    // planRoute does no affinity work, so nothing of this is remembered.
    now += 4 * 60_000;
    expect((await r.generate(turn(2), { allowedModels: [holder] })).deployment).toBe(holder);
    // 4 minutes after turn 2 (8 after turn 1) both deployments are candidates again. The provider holds turn 2's
    // prefix (and turn 1's, refreshed) on the holder; affinity should send turn 3 there.
    now += 4 * 60_000;
    expect((await r.route(turn(3))).affinity?.remembered).toBe(holder);
  });

  it('a turn with one candidate of a model configured twice is remembered without a lookup (no store read, no decision.affinity); one deployment per model does no affinity work at all', async () => {
    const calls = { find: 0, remember: 0 };
    const inner = new MemoryAffinityStore({ maxEntries: 100 });
    const store = {
      find: (keys: readonly string[], models: readonly string[]) => (calls.find++, inner.find(keys, models)),
      remember: (keys: readonly AffinityKey[], model: string, deployment: string) => (calls.remember++, inner.remember(keys, model, deployment)),
    };
    const r = router([deployment('claude-a', wire.a), deployment('claude-b', wire.b)], { strategy: 'round-robin' }, { promptCacheAffinityStore: store });
    const decision = await r.route(turn(1), { allowedModels: ['claude-b'] });
    expect(decision.affinity).toBeUndefined();
    expect((await r.generate(turn(1), { allowedModels: ['claude-b'] })).deployment).toBe('claude-b');
    expect(calls).toEqual({ find: 0, remember: 1 });
    // Both candidates again: the lookup finds what the remember-only turn stored.
    expect((await r.route(turn(2))).affinity).toMatchObject({ source: 'prefix', remembered: 'claude-b' });
    expect(calls.find).toBe(1);

    const single = { find: 0, remember: 0 };
    const one = router([deployment('claude-a', wire.a), { ...deployment('other', wire.b), model: 'claude-test-2' }], { strategy: 'round-robin' }, {
      promptCacheAffinityStore: { find: () => (single.find++, []), remember: () => void single.remember++ },
    });
    await one.generate(turn(1), { model: 'claude-a' });
    await one.generate(turn(1));
    expect(single).toEqual({ find: 0, remember: 0 });
  });
});
