import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RouterConfigInput } from '../../config/schema.js';
import '../../engines/index.js';
import type { ChatMessage, GenerateRequest } from '../../spec/index.js';
import type { AnthropicWireServer } from '../../test/anthropic-wire-server.js';
import { anthropicDeployment, useTwoAnthropicWireServers } from './two-anthropic-deployments.test-helpers.js';
import type { LLMRouter } from '../llm-router.js';
import type { RouterOptions } from '../types.js';

// Two deployments of one Anthropic model behind two Anthropic wire servers, under round-robin (which
// alternates every call): a marked conversation stays where its prompt is cached; everything else spreads.

const wire = useTwoAnthropicWireServers();
let a: AnthropicWireServer;
let b: AnthropicWireServer;
beforeAll(() => {
  ({ a, b } = wire);
});
let baseA = 0;
let baseB = 0;
beforeEach(() => {
  baseA = a.requests.length;
  baseB = b.requests.length;
});

const deployment = anthropicDeployment;

function router(routing: NonNullable<RouterConfigInput['routing']> = {}, options: RouterOptions = {}): LLMRouter {
  return wire.router([deployment('claude-a', a), deployment('claude-b', b)], { strategy: 'round-robin', ...routing }, options);
}

const mark = { type: 'ephemeral' } as const;
const SYSTEM = 'You are a careful assistant who answers briefly. '.repeat(30);

/** Turn `n` of conversation `id`: its marked system prompt, n user turns and n-1 answers, the last user turn marked. */
function turn(id: string, n: number, marks = true): GenerateRequest {
  const messages: ChatMessage[] = [{ role: 'system', content: `${SYSTEM} (${id})`, ...(marks ? { cacheControl: mark } : {}) }];
  for (let i = 1; i <= n; i++) {
    const last = i === n;
    messages.push({ role: 'user', content: `${id} question ${i}`, ...(marks && last ? { cacheControl: mark } : {}) });
    if (!last) messages.push({ role: 'assistant', content: `${id} answer ${i}` });
  }
  return { messages, maxTokens: 64 };
}

const served = () => ({ a: a.requests.length - baseA, b: b.requests.length - baseB });

describe('prompt-cache affinity over two Anthropic deployments of one model', () => {
  it("a marked conversation's turns all go to the deployment of its first turn; unmarked requests still alternate", async () => {
    const r = router();
    const first = await r.generate(turn('c1', 1));
    const where = first.deployment;
    for (let n = 2; n <= 5; n++) expect((await r.generate(turn('c1', n))).deployment).toBe(where);
    expect(served()).toEqual(where === 'claude-a' ? { a: 5, b: 0 } : { a: 0, b: 5 });
    // The same prompts without marks: round-robin as before.
    const unmarked: string[] = [];
    for (let n = 1; n <= 4; n++) unmarked.push((await r.generate(turn('c1', n, false))).deployment);
    expect(new Set(unmarked)).toEqual(new Set(['claude-a', 'claude-b']));
    expect(unmarked[0]).not.toBe(unmarked[1]);
    expect(unmarked[1]).not.toBe(unmarked[2]);
  });

  it('a streamed turn is remembered once it has its first content; the next turn follows it', async () => {
    const r = router();
    const stream = r.stream(turn('s1', 1));
    let routed: string | undefined;
    for await (const p of stream) if (p.type === 'route') routed = p.deployment;
    expect(routed).toBeDefined();
    for (let n = 2; n <= 4; n++) expect((await r.generate(turn('s1', n))).deployment).toBe(routed);
  });

  it("without affinity (enabled: false) a marked conversation's turns alternate", async () => {
    const r = router({ promptCacheAffinity: { enabled: false } });
    const got: string[] = [];
    for (let n = 1; n <= 4; n++) got.push((await r.generate(turn('off', n))).deployment);
    expect(got[0]).not.toBe(got[1]);
    expect(got[1]).not.toBe(got[2]);
  });

  it('the remembered deployment failing opens its circuit: the other one serves, then is the remembered one, also after the circuit closes', async () => {
    let now = 1_000_000;
    const r = router({ circuitBreaker: { failureThreshold: 1, cooldownMs: 10_000 } }, { now: () => now });
    const first = (await r.generate(turn('f1', 1))).deployment;
    const [failing, other] = first === 'claude-a' ? [a, 'claude-b'] : [b, 'claude-a'];
    failing.enqueue({ error: { status: 500, message: 'boom' } });
    const second = await r.generate(turn('f1', 2));
    // Affinity put the remembered one first; its failure led to the next candidate, as without affinity.
    expect(second.attempts.map((x) => [x.deployment, x.ok])).toEqual([
      [first, false],
      [other, true],
    ]);
    expect(r.models().find((m) => m.name === first)?.stats.circuit).toBe('open');
    for (let n = 3; n <= 4; n++) expect((await r.generate(turn('f1', n))).deployment).toBe(other);
    now += 60_000; // the first deployment's circuit may close again; the conversation stays where its cache is now
    for (let n = 5; n <= 7; n++) expect((await r.generate(turn('f1', n))).deployment).toBe(other);
    const decision = await r.route(turn('f1', 8));
    expect(decision.selected).toBe(other);
    expect(decision.affinity).toMatchObject({ source: 'prefix', remembered: other });
  });

  it('promptCacheKey groups requests (unmarked ones too), each key on its own deployment', async () => {
    const r = router();
    const byKey: Record<string, string[]> = { k1: [], k2: [] };
    for (let i = 0; i < 6; i++) {
      const key = i % 2 === 0 ? 'k1' : 'k2';
      const res = await r.generate({ messages: [{ role: 'user', content: `request ${i}` }], promptCacheKey: key, maxTokens: 16 });
      byKey[key]!.push(res.deployment);
    }
    expect(new Set(byKey['k1']).size).toBe(1);
    expect(new Set(byKey['k2']).size).toBe(1);
  });

  it('tenants do not share affinity', async () => {
    const r = router({}, { unknownTenant: 'shared' });
    const t1 = (await r.generate(turn('shared-prompt', 1), { tenant: 't1' })).deployment;
    // Round-robin's next pick for the same prompt under another tenant: t1's affinity does not apply.
    const t2 = (await r.generate(turn('shared-prompt', 1), { tenant: 't2' })).deployment;
    expect(t2).not.toBe(t1);
    for (let n = 2; n <= 3; n++) {
      expect((await r.generate(turn('shared-prompt', n), { tenant: 't1' })).deployment).toBe(t1);
      expect((await r.generate(turn('shared-prompt', n), { tenant: 't2' })).deployment).toBe(t2);
    }
  });

  it('explain says when affinity chose, and route() never remembers', async () => {
    const r = router();
    const before = await r.route(turn('e1', 1));
    expect(before.affinity).toEqual({ source: 'prefix', applied: false });
    expect(before.reason).toContain('no deployment remembered');
    const where = (await r.generate(turn('e1', 1))).deployment;
    const decisions = [await r.route(turn('e1', 2)), await r.route(turn('e1', 2))];
    for (const d of decisions) {
      expect(d.selected).toBe(where);
      expect(d.affinity?.remembered).toBe(where);
    }
    // Round-robin ranked the other deployment first in one of the two: affinity chose there.
    const chose = decisions.find((d) => d.affinity?.applied);
    expect(chose?.reason).toMatch(new RegExp(`^"${where}" chosen by prompt-cache affinity`));
    expect(chose?.order).toEqual([where, where === 'claude-a' ? 'claude-b' : 'claude-a']);
    // Unmarked: no affinity in the decision.
    expect((await r.route(turn('e1', 2, false))).affinity).toBeUndefined();
  });

  it('a strategy choosing between models, or following a preference order, is not overridden: affinity does no work there', async () => {
    const r = wire.router([deployment('claude-a', a, { priority: 1 }), deployment('claude-b', b, { model: 'claude-test-2', priority: 2 })], { strategy: 'priority' });
    // claude-a fails once: claude-b (another model) serves the first turn.
    a.enqueue({ error: { status: 500, message: 'boom' } });
    expect((await r.generate(turn('m1', 1))).deployment).toBe('claude-b');
    // Priority picks claude-a again: priority does not spread, so no affinity is looked up at all.
    const d = await r.route(turn('m1', 2));
    expect(d.affinity).toBeUndefined();
    expect(d.selected).toBe('claude-a');
    expect((await r.generate(turn('m1', 2))).deployment).toBe('claude-a');
    // Under a spreading strategy with one deployment per model there is nothing to choose: no affinity work either.
    const rr = await r.route(turn('m1', 3), { strategy: 'round-robin' });
    expect(rr.affinity).toBeUndefined();
  });
});
